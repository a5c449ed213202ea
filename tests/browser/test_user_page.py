"""The page for users at ``/``, in headless Chromium, against the running embedded stack:
register, upload with a progress bar, watch the job, preview its storyboard, download."""

import io
import zipfile

import pytest
from playwright.sync_api import Page, expect

from frameforge_pipeline.engine import zip_problems
from tests.browser.conftest import JOB_TIMEOUT, PASSWORD

pytestmark = pytest.mark.slow

EMAIL = "ada@example.com"
UPLOAD_BYTES_PER_SECOND = 64 * 1024  # slow enough for the progress bar to be seen moving


def test_a_user_registers_uploads_watches_the_job_and_downloads_the_zip(
    page: Page, stack, make_clip, screenshot, tmp_path
):
    clip = make_clip("browser-user.mp4", seconds=6, size=(640, 360))
    violations: list[str] = []  # the page works under its CSP: no script or style refused
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.on("pageerror", lambda error: violations.append(str(error)))

    page.goto(stack.api + "/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#who")).to_have_text(EMAIL)
    expect(page.locator("#auth")).to_be_hidden()

    # the upload, throttled, with the value of the progress bar recorded as it changes
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )
    page.evaluate(
        """() => {
          window.seenProgress = [];
          const bar = document.getElementById("upload-progress");
          new MutationObserver(() => window.seenProgress.push(bar.value))
            .observe(document.getElementById("upload-percent"), {childList: true});
        }"""
    )
    page.set_input_files("input[name=video]", clip.path)
    page.fill("input[name=fps]", "2")
    storyboard = page.locator("#storyboard-option")
    if storyboard.is_visible():  # this API's options have a storyboard
        storyboard.locator("input").check()
    page.get_by_role("button", name="Upload and extract").click()
    expect(page.locator("#upload-percent")).to_have_text("100 %")
    network.send("Network.disable")
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 100 for value in seen), seen  # it moved, not just 0 then 100
    assert seen == sorted(seen)

    status = page.locator("#job-status")
    expect(status).to_have_text("completed", timeout=JOB_TIMEOUT * 1000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-detail")).to_contain_text("12 frames")
    expect(page.locator("#jobs-rows tr")).to_have_count(1)
    expect(page.locator("#jobs-rows tr td").nth(1)).to_have_text("completed")

    if storyboard.is_visible():
        tiles = page.locator("#storyboard-tiles .tile")
        expect(tiles).to_have_count(12)  # one cue per frame
        sheet = tiles.first.locator("div").evaluate("e => getComputedStyle(e).backgroundImage")
        assert "/api/v1/storyboards/" in sheet
        loaded = page.request.get(sheet.removeprefix('url("').removesuffix('")'))
        assert loaded.status == 200
        assert loaded.headers["content-type"] == "image/jpeg"
    screenshot(page, "user-page")

    with page.expect_download() as download:
        page.locator("#download").click()
    archive = tmp_path / "frames.zip"
    download.value.save_as(archive)
    assert zip_problems(io.BytesIO(archive.read_bytes())) == []
    with zipfile.ZipFile(archive) as opened:
        assert sum(name.startswith("frame_") for name in opened.namelist()) == 12
    assert violations == []


def test_a_reload_keeps_the_user_signed_in_and_signing_out_forgets_the_tokens(page: Page, stack):
    page.goto(stack.api + "/")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#who")).to_have_text("grace@example.com")
    assert page.evaluate("Object.keys(sessionStorage)") == ["frameforge.refreshToken"]
    assert page.evaluate("Object.keys(localStorage)") == []

    page.reload()  # the access token was in memory only: the refresh token gets a new one
    expect(page.locator("#who")).to_have_text("grace@example.com")
    expect(page.locator("#jobs-empty")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#auth")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage)") == []
    page.reload()
    expect(page.locator("#auth")).to_be_visible()
    expect(page.locator("#upload")).to_be_hidden()


def test_a_refused_sign_in_or_password_is_said_on_the_page(page: Page, stack):
    page.goto(stack.api + "/")
    page.fill("input[name=email]", "nobody@example.com")
    page.fill("input[name=password]", "not the password 1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#notice")).to_have_text("invalid email or password")  # the API's word
    expect(page.locator("#upload")).to_be_hidden()

    page.fill("input[name=email]", "weak@example.com")
    page.fill("input[name=password]", "abcdefghijkl")
    page.get_by_role("button", name="Create account").click()  # a 422, field by field
    expect(page.locator("#notice")).to_have_text("password: mix letters with digits or symbols")
