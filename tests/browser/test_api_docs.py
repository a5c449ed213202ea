"""/docs (Swagger UI) and /redoc drawn in headless Chromium with no way out to the internet:
every request that leaves the stack's own address is refused, as it would be offline, and
the pages must still show the API's operations under their CSP."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.slow


@pytest.fixture
def offline(page: Page, stack) -> tuple[Page, list[str]]:
    """The page, every request to another host refused (and noted), CSP refusals noted."""
    home = urlsplit(stack.api).netloc
    problems: list[str] = []

    def only_home(route: Route) -> None:
        if urlsplit(route.request.url).netloc in (home, ""):
            route.continue_()
        else:
            problems.append(f"asked for {route.request.url}")
            route.abort("internetdisconnected")

    page.route("**/*", only_home)
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, problems


def test_swagger_ui_shows_the_operations_offline(offline, stack, screenshot):
    page, problems = offline
    page.goto(stack.api + "/docs")
    operation = page.locator(".opblock", has=page.get_by_text("/api/v1/videos/jobs", exact=True))
    expect(operation.first).to_be_visible()
    operation.first.locator(".opblock-summary").first.click()  # unfolds: the schema is there
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    screenshot(page, "api-docs")
    assert problems == []


# ReDoc's "API docs by Redocly" logo comes from Redocly's CDN; refused, it hides itself
# (its onError), as its authors made it to
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_shows_the_operations_offline(offline, stack):
    page, problems = offline
    page.goto(stack.api + "/redoc")
    expect(page.get_by_role("heading", name="Create Job").first).to_be_visible()
    expect(page.locator(f'img[src="{REDOCLY_LOGO}"]')).to_have_count(0)
    assert [p for p in problems if REDOCLY_LOGO not in p] == []
