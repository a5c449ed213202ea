"""`frameforge daemon` as a container engine meets it: a bad setting is one line before any
daemon starts, and a daemon that exits by itself ends the command with its code. A wedged
daemon and a stop are in tests/integration/faults/test_wedged_daemon.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.environments import embedded

CLI = [sys.executable, "-m", "frameforge.cli", "daemon"]


def test_a_tolerance_below_dagsters_heartbeat_is_one_line_and_no_daemon(tmp_path):
    done = subprocess.run(
        [*CLI, "-w", "workspace.yaml"],
        env=embedded(tmp_path / "home", FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS="20"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("frameforge: configuration error: ")
    assert "daemon_heartbeat_tolerance_seconds: Input should be greater than 30" in line
    assert not (tmp_path / "home").exists()  # no instance made, no daemon started


@pytest.mark.slow
def test_a_daemon_that_exits_by_itself_ends_the_command_with_its_code(tmp_path):
    done = subprocess.run(
        [*CLI, "--no-such-option"],  # dagster-daemon run refuses it: click's usage error, 2
        env=embedded(tmp_path / "home"), cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Error: No such option '--no-such-option'" in done.stderr  # dagster-daemon's own
    assert "the Dagster daemon exited by itself with 2" in done.stderr
