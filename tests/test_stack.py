"""`frameforge up`: where it finds Dagster's commands, and how it stops."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from frameforge.demo import _free_port, _wait_ready
from frameforge.stack import commands
from tests.environments import embedded


def test_the_dagster_commands_are_where_this_python_installs_scripts(monkeypatch):
    # a Debian-style Python: /usr/bin/python3, its scripts in /usr/local/bin (here: the venv's)
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    found = commands(8000, 3000, "127.0.0.1")
    for name in ("webserver", "daemon"):
        assert Path(found[name][0]).is_file(), found[name]


@pytest.mark.slow
def test_a_stop_ends_every_process_cleanly_and_exits_0(tmp_path):
    """SIGTERM, as `docker stop` sends it: every process stops within the stack's grace (short
    of the engines' 10 s, after which they kill), none is killed, and the exit code is 0."""
    api, dagster = _free_port(), _free_port()
    env = embedded(tmp_path / "home")
    log = tmp_path / "up.log"
    with log.open("wb") as output:
        stack = subprocess.Popen(
            [sys.executable, "-m", "frameforge.cli", "up",
             "--api-port", str(api), "--dagster-port", str(dagster)],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            _wait_ready([f"http://127.0.0.1:{api}/ready", f"http://127.0.0.1:{dagster}/server_info"],
                        stack, log)  # fmt: skip
        finally:
            stack.send_signal(signal.SIGTERM)
            code = stack.wait(60)
    text = log.read_text()
    assert code == 0, text
    assert "killed" not in text
    assert "Traceback" not in text
