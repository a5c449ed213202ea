"""`frameforge up` as an operator meets it: a port already taken is one line before anything
starts, the console says where things are and then one line per job state change, every
process's log goes to a file under the data dir (the whole stack's console is checked in
tests/e2e/test_embedded_stack.py), it finds Dagster's commands where Python installs scripts,
and a stop ends every process cleanly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from frameforge import stack
from frameforge.demo import running_stack
from frameforge.job_feed import JobFeed
from frameforge.stack import commands
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import DeletedVideo, User, Video, VideoJob
from tests.environments import embedded

CLI = [sys.executable, "-m", "frameforge.cli"]


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path, taken_port):
    home = tmp_path / "home"
    done = subprocess.run(
        [*CLI, "up", "--api-port", str(taken_port), "--dagster-port", "0"],
        env={"FRAMEFORGE_HOME": str(home), "PATH": ""},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(
        f"frameforge: port {taken_port} on 127.0.0.1 is in use (another `frameforge up`?): "
        f"choose another with --api-port, e.g. --api-port "
    )
    assert not home.exists()  # nothing was started, migrated or made


def test_the_dagster_port_is_checked_too_and_one_port_is_not_two(taken_port):
    taken = stack.port_taken("127.0.0.1", {"--api-port": 0, "--dagster-port": taken_port})
    assert taken is not None
    assert "choose another with --dagster-port" in taken
    same = stack.port_taken("127.0.0.1", {"--api-port": 8123, "--dagster-port": 8123})
    assert same == "--api-port and --dagster-port are given the same port 8123"


class _Exited:
    """A process that has already ended (the stack stops at once)."""

    returncode = 0
    pid = -1

    def __init__(self, command, **kwargs):
        self.kwargs = kwargs
        started.append(self)

    def poll(self) -> int:
        return 0


started: list[_Exited] = []


@pytest.mark.parametrize("verbose", [False, True])
def test_each_process_logs_to_its_file_or_with_verbose_to_the_console(
    tmp_path, monkeypatch, capsys, verbose
):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(stack.subprocess, "Popen", _Exited)
    started.clear()
    ports = [stack._free_port("127.0.0.1", 20000 + n * 1000) for n in range(2)]
    assert stack.run_stack(*ports, verbose=verbose) == 1
    names = ["api", "webserver", "daemon", "worker"]
    assert len(started) == len(names)
    logs = tmp_path / "home" / "logs"
    for name, process in zip(names, started, strict=True):
        output = process.kwargs["stdout"]
        if verbose:
            assert output is None  # inherited: the console
        else:
            assert output.name == str(logs / f"{name}.log")
            assert process.kwargs["stderr"] == subprocess.STDOUT
    console = capsys.readouterr().out
    assert f"logs          {logs}/" in console
    if not verbose:
        assert f"(its log: {logs}/api.log)" in console


@pytest.fixture
def job_rows(tmp_path):
    """An app database with one user and their video ``v`` named "holiday\\nclip.mp4"."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        session.add(User(id="u", email="u@example.com", password_hash="x"))
        session.add(
            Video(id="v", user_id="u", filename="holiday\nclip.mp4", content_type="video/mp4",
                  storage_key="uploads/v/clip.mp4", max_bytes=1)
        )  # fmt: skip
        session.commit()
    return sessions


def _lines(feed: JobFeed) -> list[str]:
    """The feed's new lines without their time, and the name's column closed up."""
    return [" ".join(line[10:].split()) for line in feed.changes()]


def test_one_line_per_change_of_a_job_state(job_rows):
    runs: dict[str, JobStatus] = {}
    feed = JobFeed(job_rows, lambda ids: {i: runs[i] for i in ids if i in runs})
    assert feed.changes() == []

    def change(**values: object) -> list[str]:
        with job_rows() as session:
            session.execute(update(VideoJob).values(**values))
            session.commit()
        return _lines(feed)

    with job_rows() as session:
        session.add(VideoJob(id="0123456789ab", user_id="u", video_id="v", options={}))
        session.commit()
    assert _lines(feed) == ["job 01234567 holiday clip.mp4 queued"]
    assert feed.changes() == []  # nothing new
    assert change(status="submitted", run_id="feedbeef-1234") == [
        "job 01234567 holiday clip.mp4 submitted to Dagster (run feedbeef)"
    ]
    runs["feedbeef-1234"] = JobStatus.RUNNING  # the run started: the row does not say so
    assert _lines(feed) == ["job 01234567 holiday clip.mp4 running"]
    assert feed.changes() == []
    assert change(status="completed", frame_count=10, processing_seconds=0.61) == [
        "job 01234567 holiday clip.mp4 completed: 10 frames in 0.6 s"
    ]
    assert change(status="queued", attempt=1) == [
        "job 01234567 holiday clip.mp4 queued (attempt 2)"
    ]
    assert change(status="failed", error="video rejected: not a video file") == [
        "job 01234567 holiday clip.mp4 failed: video rejected: not a video file"
    ]


def test_a_job_whose_video_is_deleted_is_shown_deleted_with_how_its_run_ended(job_rows):
    """Deleted right after its run ended, before the feed saw the row say so: the run says."""
    feed = JobFeed(job_rows, lambda ids: dict.fromkeys(ids, JobStatus.COMPLETED))
    with job_rows() as session:
        session.add(
            VideoJob(id="0123456789ab", user_id="u", video_id="v", options={},
                     status="submitted", run_id="feedbeef-1234", attempt=1)
        )  # fmt: skip
        session.commit()
    assert _lines(feed) == ["job 01234567 holiday clip.mp4 submitted to Dagster (run feedbeef)"]
    with job_rows() as session:
        session.add(DeletedVideo(video_id="v", partition_keys=[]))
        session.execute(delete(Video))  # its jobs go with it
        session.commit()
    assert _lines(feed) == ["job 01234567 holiday clip.mp4 completed, then deleted"]
    assert feed.changes() == []


def test_a_long_name_ends_in_an_ellipsis_and_the_states_line_up(job_rows):
    feed = JobFeed(job_rows, lambda ids: {})
    with job_rows() as session:
        session.add(
            Video(id="w", user_id="u", content_type="video/mp4", storage_key="uploads/w/x.mp4",
                  max_bytes=1, filename="a long walk along the cliffs at sunset, in 4K.mp4")
        )  # fmt: skip
        session.add(VideoJob(id="0123456789ab", user_id="u", video_id="v", options={}))
        session.add(VideoJob(id="abcdef012345", user_id="u", video_id="w", options={}))
        session.commit()
    short, long = feed.changes()
    assert " ".join(long[10:].split()) == "job abcdef01 a long walk along the cliffs… queued"
    assert short.index("queued") == long.index("queued")


def test_the_dagster_commands_are_where_this_python_installs_scripts(monkeypatch):
    # a Debian-style Python: /usr/bin/python3, its scripts in /usr/local/bin (here: the venv's)
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    found = commands(8000, 3000, "127.0.0.1")
    assert Path(found["webserver"][0]).is_file(), found["webserver"]
    # the daemon: dagster-daemon's own entry point, run by this Python (dagster_daemon.py)
    assert found["daemon"][:3] == ["/usr/bin/python3", "-m", "frameforge.dagster_daemon"]


@pytest.mark.slow
def test_a_stop_ends_every_process_cleanly_and_exits_0(tmp_path):
    """SIGTERM, as `docker stop` sends it: every process stops within the stack's grace (short
    of the engines' 10 s, after which they kill), none is killed, and the exit code is 0."""
    log = tmp_path / "up.log"
    with running_stack(log, cwd=tmp_path, env=embedded(tmp_path / "home")) as up:
        pass  # ready: running_stack stops it with SIGTERM
    text = log.read_text()
    assert up.process.returncode == 0, text
    assert "killed" not in text
    assert "Traceback" not in text
    # the Dagster processes' logs: JSON lines without colour codes, none written twice
    for name in ("daemon", "webserver"):
        lines = (tmp_path / "home" / "logs" / f"{name}.log").read_text().splitlines()[1:]
        assert lines, name
        assert all(isinstance(json.loads(line), dict) for line in lines), name
        assert not any("\x1b[" in line for line in lines), name
        assert len(set(lines)) == len(lines), name
