"""`frameforge demo`: the embedded stack end to end, driven over HTTP as a user would.

Starts `frameforge up` on free ports in a data dir of its own (``demo_home``: beside the
one `frameforge up` uses, so that the demo's frames never count in an analyst's query and its
email's link is not taken for one of the real stack's), registers a user, uploads a
generated 10 s 720p clip through the signed URL, creates a job, polls it, downloads the ZIP,
checks it against its manifest, finds the email the worker wrote about it, prints where
everything is and how long each part took, and stops the stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from frameforge_api.core.downloads import zip_name
from frameforge_api.services import verification
from frameforge_core.settings import HomeSettings
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.samples import write_clip

SAMPLE_SECONDS = 10
SAMPLE_SIZE = (1280, 720)
START_TIMEOUT = 180
JOB_TIMEOUT = 300
EMAIL_TIMEOUT = 30
POLL_SECONDS = 0.5  # 120 a minute: past the limit (100/min) Api.call waits as told


class Api:
    """Just enough of an HTTP client for the demo (the standard library's)."""

    def __init__(self, base: str):
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        url = path if path.startswith("http") else self.base + path
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = raw
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        while True:
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    payload = response.read()
                break
            except urllib.error.HTTPError as error:
                if error.code == 429:  # past the rate limit: wait as told, then again
                    time.sleep(int(error.headers.get("Retry-After", "1")))
                    continue
                detail = json.loads(error.read() or b"{}").get("detail", error.reason)
                raise RuntimeError(f"{method} {path}: {error.code} {detail}") from None
        if response.headers.get_content_type() == "application/zip":
            return payload
        return json.loads(payload) if payload else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    api: str  # base URLs
    dagster: str
    process: subprocess.Popen[bytes]  # `frameforge up`: its returncode once the block ends


@contextlib.contextmanager
def running_stack(
    log: Path,
    frameforge: Sequence[str] = (sys.executable, "-m", "frameforge.cli"),
    cwd: Path | None = None,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """`frameforge up` in the background, on free ports, its console in ``log``, with
    ``env`` (default: this process's environment); yields once the API and Dagster's
    webserver are ready, and stops it with SIGTERM (as `docker stop` does) when the block
    ends. ``frameforge`` is the command to run (an installed ``frameforge`` script, say),
    ``extra`` more options of `frameforge up`."""
    api_port, dagster_port = _free_port(), _free_port()
    ports = ["--api-port", str(api_port), "--dagster-port", str(dagster_port)]
    command = [*frameforge, "up", *ports, *extra]
    with log.open("wb") as output:
        stack = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        try:
            up = Stack(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dagster_port}", stack)
            _wait_ready([f"{up.api}/ready", f"{up.dagster}/server_info"], stack, log)
            yield up
        finally:
            stack.send_signal(signal.SIGTERM)
            stack.wait(60)


def _wait_ready(urls: list[str], stack: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(urls)
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise RuntimeError(f"the stack stopped while starting; see {log}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(waiting[0], timeout=2).close()
            waiting.pop(0)
            if not waiting:
                return
            continue
        time.sleep(0.3)
    raise RuntimeError(f"the stack was not ready after {START_TIMEOUT} s; see {log}")


def demo_home() -> Path:
    """The demo's data dir: the data dir's name with ``-demo`` (./.frameforge-demo)."""
    home = HomeSettings().home
    return home.with_name(f"{home.name}-demo")


def run_demo() -> int:
    home = demo_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["FRAMEFORGE_HOME"] = str(home)
    log = home / "demo-stack.log"
    began = time.perf_counter()
    try:
        with running_stack(log) as stack, tempfile.TemporaryDirectory() as tmp:
            print(f"stack         ready in {time.perf_counter() - began:.1f} s, data dir {home}")
            return _drive(Api(stack.api), Path(tmp), home)
    except (RuntimeError, OSError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1


def _drive(api: Api, tmp: Path, home: Path) -> int:
    email, password = f"demo-{secrets.token_hex(4)}@example.com", f"{secrets.token_hex(12)}-x"
    api.call("POST", "/api/v1/auth/register", {"email": email, "password": password})
    link = verification_link(home / "mail", email)
    if link is None:
        print(f"no verification email for {email} within {EMAIL_TIMEOUT} s", file=sys.stderr)
        return 1
    urllib.request.urlopen(link, timeout=60).close()  # verified: the job's email may go
    api.token = api.call("POST", "/api/v1/auth/login", {"email": email, "password": password})[
        "accessToken"
    ]
    clip = tmp / "sample.mp4"
    write_clip(clip, seconds=SAMPLE_SECONDS, size=SAMPLE_SIZE)
    data = clip.read_bytes()
    slot = api.call(
        "POST",
        "/api/v1/videos/upload-url",
        {"filename": clip.name, "contentType": "video/mp4", "sizeBytes": len(data)},
    )
    api.call("PUT", slot["uploadUrl"], raw=data)
    print(f"uploaded      {clip.name}, {SAMPLE_SECONDS} s {SAMPLE_SIZE[0]}x{SAMPLE_SIZE[1]} H.264")

    created_at = time.perf_counter()
    job_id = api.call("POST", "/api/v1/videos/jobs", {"videoId": slot["videoId"]})["jobId"]
    job = _poll(api, job_id)
    waited = time.perf_counter() - created_at
    if job["status"] != "completed":
        print(f"job {job_id} {job['status']}: {job['error']}", file=sys.stderr)
        return 1
    archive = api.call("GET", job["downloadUrl"])
    target = home / "downloads" / zip_name(clip.name)
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(archive)
    with target.open("rb") as stream:
        problems = zip_problems(stream)
    run_seconds = _seconds_between(job["startedAt"], job["finishedAt"])
    print(f"job           {job_id} completed: {job['frameCount']} frames")
    print(f"latency       {waited:.1f} s from POST /videos/jobs to completed")
    overhead = waited - run_seconds
    print(f"              {run_seconds:.1f} s in the run, {overhead:.1f} s Dagster overhead")
    print(f"zip           {target} ({len(archive) / 1e6:.1f} MB, "
          f"{'matches its manifest' if not problems else 'BROKEN: ' + problems[0]})")  # fmt: skip
    mail = _email_about(home / "mail", job_id)
    print(f"email         {mail or f'NOT SENT within {EMAIL_TIMEOUT} s'}")
    return 0 if not problems and mail else 1


def _email_about(folder: Path, needle: str) -> Path | None:
    """The .eml the worker (a job's) or the API (a verification link) wrote that mentions
    ``needle`` (the embedded default's email)."""
    deadline = time.monotonic() + EMAIL_TIMEOUT
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")):
            if needle in path.read_text(errors="replace"):
                return path
        time.sleep(0.2)
    return None


def verification_link(folder: Path, address: str) -> str | None:
    """The link of the verification mail the API wrote to ``address``."""
    mail = _email_about(folder, f"To: {address}")
    if mail is None:
        return None
    parsed = message_from_bytes(mail.read_bytes(), policy=policy.default)
    body = parsed.get_body() if isinstance(parsed, EmailMessage) else None
    return verification.link_in(body.get_content()) if body is not None else None


def _poll(api: Api, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.call("GET", f"/api/v1/videos/jobs/{job_id}")
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"job {job_id} did not finish within {JOB_TIMEOUT} s")


def _seconds_between(start: str | None, end: str | None) -> float:
    import datetime as dt

    if not start or not end:
        return 0.0
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
