"""Headless Chromium (Debian's, driven by Playwright: it cannot download its own here) on one
embedded stack per test session. A missing chromium skips these tests locally and fails them
under FRAMEFORGE_REQUIRE_SERVICES=1 (CI), as the deployment tests do with their tools.

Screenshots go to the session's temporary dir, or to ``$FRAMEFORGE_SCREENSHOTS``
(``FRAMEFORGE_SCREENSHOTS=docs/screenshots``: the docs' pictures, taken again)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from frameforge.demo import Api, Stack, running_stack
from tests.deploy.tools import missing

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-15's CSS pixels
TIMEZONE = "Asia/Tokyo"
TIMEOUT_MS = 60_000  # one action or expectation; a shared 2-core machine is slow at times
JOB_TIMEOUT = 180
PASSWORD = "browser test 3"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"{CHROMIUM} not found (apt-get install chromium)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def stack(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``frameforge up`` on a fresh data dir, shared by every browser test of the session
    (asked for after the browser: no stack starts when there is no chromium)."""
    folder = tmp_path_factory.mktemp("browser-stack")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRAMEFORGE_HOME", str(folder / "home"))
        patch.delenv("DAGSTER_HOME", raising=False)
        with running_stack(folder / "stack.log") as running:
            yield running


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A fresh tab (its own cookies and storage) of 1280x800, in a browser in Tokyo: what
    the page shows in local time must not be UTC's."""
    context = browser.new_context(
        viewport=VIEWPORT,
        accept_downloads=True,
        timezone_id=TIMEZONE,
        locale="en-US",
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``screenshot(page, "name")`` saves the viewport as ``name.png`` (``full_page=True``:
    the whole page)."""
    folder = Path(os.environ.get("FRAMEFORGE_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, full_page: bool = False) -> Path:
        path = folder / f"{name}.png"
        page.wait_for_timeout(500)  # transitions (a dialog fading in) end: a picture, not a test
        page.screenshot(path=path, type="png", full_page=full_page)
        return path

    return take


@dataclass(frozen=True)
class Processed:
    job: dict[str, Any]  # the job as GET /videos/jobs/{id} answers once completed
    partition: str  # its Dagster partition (the run's dagster/partition tag)


@pytest.fixture(scope="session")
def processed(stack: Stack, make_clip: Callable[..., Any]) -> Processed:
    """A 5 s clip taken from upload to its ZIP over HTTP, as any client does."""
    api = Api(stack.api)
    account = {"email": "operator@example.com", "password": PASSWORD}
    api.call("POST", "/api/v1/auth/register", account)
    api.token = api.call("POST", "/api/v1/auth/login", account)["accessToken"]
    data = make_clip("browser-operator.mp4", seconds=5, size=(640, 360)).path.read_bytes()
    slot = api.call(
        "POST",
        "/api/v1/videos/upload-url",
        {"filename": "harbour.mp4", "contentType": "video/mp4", "sizeBytes": len(data)},
    )
    api.call("PUT", slot["uploadUrl"], raw=data)
    job_id = api.call("POST", "/api/v1/videos/jobs", {"videoId": slot["videoId"]})["jobId"]
    deadline = time.monotonic() + JOB_TIMEOUT
    while (job := api.call("GET", f"/api/v1/videos/jobs/{job_id}"))["status"] not in (
        "completed", "failed", "cancelled"
    ):  # fmt: skip
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.5)
    assert job["status"] == "completed", job
    [run] = graphql(
        stack.dagster,
        "query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {"
        " ... on Runs { results { tags { key value } } } } }",
        tags=[{"key": "frameforge/job_id", "value": job_id}],
    )["runsOrError"]["results"]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    return Processed(job, tags["dagster/partition"])


def graphql(dagster: str, query: str, **variables: Any) -> dict[str, Any]:
    """The data of a query to the Dagster webserver's GraphQL endpoint."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"{dagster}/graphql", body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer["errors"]
    data: dict[str, Any] = answer["data"]
    return data
