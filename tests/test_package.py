"""Users run what they install: the wheel, in a fresh virtualenv, from another directory,
with a data dir that does not exist yet."""

import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from frameforge.demo import running_stack
from tests.environments import embedded

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from this checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", folder, ROOT], check=True, timeout=300)
    [built] = folder.glob("frameforge-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """A fresh virtualenv with the project's wheel (and its dependencies) installed."""
    venv = wheel.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    subprocess.run(
        [venv / "bin/python", "-m", "pip", "--disable-pip-version-check", "-q", "install", wheel],
        check=True,
        timeout=600,
    )
    return venv / "bin"


def _environment(home: Path) -> dict[str, str]:
    """The embedded default on ``home``, its log lines as text."""
    return embedded(home, FRAMEFORGE_LOG_FORMAT="text")


@pytest.mark.slow
def test_the_wheel_holds_the_files_that_are_not_python(wheel):
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
    for name in ("index.html", "app.js", "style.css"):  # the page for users
        assert f"frameforge_api/web/{name}" in names
    assert "frameforge_core/dagster.yaml" in names  # the embedded Dagster instance
    assert "frameforge/workspace.yaml" in names


@pytest.mark.slow
def test_the_wheel_extracts_from_any_directory(installed, make_clip, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clip = make_clip("package-3s.mp4", seconds=3).path
    done = subprocess.run(
        [installed / "frameforge", "extract", clip, "-o", "out.zip", "--json", "--fps", "2"],
        cwd=elsewhere, env=_environment(tmp_path / "home"), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["frames"] == 6
    assert (elsewhere / "out.zip").is_file()


@pytest.mark.slow
def test_the_wheel_starts_the_stack_on_a_data_dir_that_does_not_exist_yet(
    installed, tmp_path, monkeypatch
):
    home = tmp_path / "var" / "lib" / "frameforge"  # no part of it exists
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in [*os.environ]:
        monkeypatch.delenv(name)
    for name, value in _environment(home).items():  # what running_stack's process inherits
        monkeypatch.setenv(name, value)
    with running_stack(tmp_path / "stack.log", [str(installed / "frameforge")], elsewhere) as up:
        ready = json.loads(urllib.request.urlopen(f"{up.api}/ready", timeout=10).read())
        assert ready == {"status": "ok", "database": "ok", "dagster": "ok"}
        urllib.request.urlopen(f"{up.dagster}/server_info", timeout=10).close()
        page = urllib.request.urlopen(f"{up.api}/", timeout=10).read().decode()
        assert "<title>FrameForge</title>" in page
        for name in ("app.js", "style.css"):  # the page's files, from the installed package
            urllib.request.urlopen(f"{up.api}/web/{name}", timeout=10).close()
    assert (home / "app.db").is_file()
    assert (home / "dagster" / "dagster.yaml").is_file()


def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for command in ("up", "worker", "migrate"):
        done = subprocess.run(
            [sys.executable, "-m", "frameforge.cli", command],
            env=_environment(blocker / "home"), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
        assert done.stderr.startswith("frameforge: ")
        assert "Not a directory" in done.stderr
