"""The image itself: the one-shot extractor runs in it with the chart's security settings, it
holds nothing of the build (pip, the CA certificate given as a secret), and a rebuild after a
one-line change has the new code (podman 4.3 / buildah 1.28 once kept the old)."""

import shutil
import uuid
import zipfile

from frameforge_pipeline.engine.archive import zip_problems
from tests.container import podman


def test_extract_runs_in_the_image(image, make_clip, tmp_path):
    for folder in ("in", "out"):  # read and written by uid 10001
        (tmp_path / folder).mkdir()
        (tmp_path / folder).chmod(0o777)
    shutil.copy(make_clip("image-extract.mp4", seconds=3).path, tmp_path / "in" / "cfr.mp4")
    (tmp_path / "in" / "cfr.mp4").chmod(0o644)
    done = podman.run(
        image, ["frameforge", "extract", "/in/cfr.mp4", "-o", "/out/frames.zip", "--json"],
        "--network", "none",
        "-v", f"{tmp_path / 'in'}:/in:ro", "-v", f"{tmp_path / 'out'}:/out",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out" / "frames.zip").open("rb") as archive:
        assert zip_problems(archive) == []
    with zipfile.ZipFile(tmp_path / "out" / "frames.zip") as archive:
        assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == 3


def test_the_build_warns_of_nothing_it_does(image, build_log):
    """useradd warned of uid 10001 as a --system account. (A warm build takes that step from
    its cache and prints nothing either way: CI's first build on a machine shows it.)"""
    assert "useradd warning" not in build_log.read_text()


def test_the_image_holds_nothing_of_the_build(image):
    probe = (
        "import importlib.util, os, pathlib, shutil\n"
        "print(importlib.util.find_spec('pip') is None)\n"
        "print(any(p.name == 'pip-ca' for p in pathlib.Path('/').glob('run/secrets/*')))\n"
        "print(pathlib.Path('/src').exists(), pathlib.Path('/wheels').exists())\n"
        "print(os.getuid(), shutil.which('frameforge'), shutil.which('dagster'))\n"
    )
    done = podman.run(image, ["python", "-c", probe], "--network", "none")
    assert done.returncode == 0, done.stderr
    no_pip, secret, (src_wheels), who = done.stdout.splitlines()
    assert no_pip == "True"  # the venv has no pip (pip is the base image's)
    assert secret == "False"
    assert src_wheels == "False False"
    assert who == "10001 /opt/frameforge/bin/frameforge /opt/frameforge/bin/dagster"


def test_a_rebuild_after_a_one_line_change_has_the_new_code(image, tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
        shutil.copy2(podman.REPO / name, context / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("requirements", "frameforge", "frameforge_core", "frameforge_api",
                   "frameforge_pipeline", "frameforge_worker"):  # fmt: skip
        shutil.copytree(podman.REPO / folder, context / folder, ignore=ignore)
    mark = uuid.uuid4().hex
    with (context / "frameforge" / "__init__.py").open("a") as module:
        module.write(f'CONTAINER_TEST_MARK = "{mark}"\n')
    tag = f"localhost/frameforge:rebuild-{mark[:8]}"
    try:
        seconds = podman.build(tag, context)
        print(f"\nrebuild after a one-line change: {seconds:.0f} s")
        done = podman.run(
            tag, ["python", "-c", "import frameforge; print(frameforge.CONTAINER_TEST_MARK)"],
            "--network", "none",
        )  # fmt: skip
        assert done.stdout.strip() == mark, done.stderr
    finally:
        podman.podman("rmi", "--force", tag, check=False)
