"""`frameforge demo` (what `make demo` runs) on a fresh machine: the whole embedded stack,
in a data dir of its own beside the one `frameforge up` uses."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_runs_in_a_data_dir_of_its_own(tmp_path):
    home = tmp_path / ".frameforge"  # what `frameforge up` would use
    done = subprocess.run(
        [sys.executable, "-m", "frameforge.cli", "demo"],
        env={"FRAMEFORGE_HOME": str(home), "PATH": ""},
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    demo = tmp_path / ".frameforge-demo"
    assert not home.exists()  # an analyst's `frameforge query` there counts none of it
    assert f"data dir {demo}" in done.stdout
    assert (demo / "downloads" / "sample-frames.zip").is_file()  # named after the upload
    assert list((demo / "mail").glob("*.eml"))
    assert f"zip           {demo / 'downloads' / 'sample-frames.zip'}" in done.stdout
