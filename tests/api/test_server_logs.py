"""The API as the image, compose and the chart start it (``uvicorn frameforge_api.main:app``,
no logging flags): every line it writes is JSON, one request line per request, and no line
holds a query string, where signed links carry their signature."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from frameforge.demo import _wait_ready
from tests.environments import embedded
from tests.helpers import free_port

pytestmark = pytest.mark.slow


def test_the_api_logs_json_lines_without_query_strings(tmp_path: Path) -> None:
    port = free_port()
    env = embedded(tmp_path / "home", FRAMEFORGE_LOG_FORMAT="json")
    output = tmp_path / "api.log"
    with output.open("wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "frameforge_api.main:app",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready([f"{base}/health"], api, output)
            signed = f"{base}/api/v1/downloads/some-job?expires=1999999999&signature=c2VjcmV0"
            assert httpx2.get(signed).status_code in (403, 404, 410, 422)  # a made-up link
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(30)

    lines = output.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert not [line for line in lines if "signature=" in line]
    requests = [e for e in entries if e.get("context", {}).get("path", "").startswith("/api/")]
    assert [(e["context"]["method"], e["context"]["path"]) for e in requests] == [
        ("GET", "/api/v1/downloads/some-job")
    ]  # one line per request: ours, without the query string
    assert {e["service"] for e in entries} == {"api"}
