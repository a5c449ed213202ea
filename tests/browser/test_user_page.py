"""The page for users at ``/``, in headless Chromium (in Tokyo), against the running embedded
stack: register, upload with a progress bar, watch the job's frames being counted, cancel,
retry, delete, read why a job failed, preview its storyboard, download; on a desktop and on
a 390 px phone."""

import datetime as dt
import io
import os
import re
import time
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from frameforge.demo import verification_link
from frameforge_pipeline.engine.archive import zip_problems
from tests.browser.conftest import JOB_TIMEOUT, PASSWORD, PHONE, TIMEZONE

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
    page.evaluate(
        """() => {
          window.seenFrames = [];
          const frames = document.getElementById("job-frames");
          new MutationObserver(() => window.seenFrames.push(frames.textContent))
            .observe(frames, {childList: true});
        }"""
    )
    page.get_by_role("button", name="Upload and extract").click()
    expect(page.locator("#upload-percent")).to_have_text("100 %")
    network.send("Network.disable")
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 100 for value in seen), seen  # it moved, not just 0 then 100
    assert seen == sorted(seen)

    status = page.locator("#job-status")
    expect(status).to_have_text("completed", timeout=JOB_TIMEOUT * 1000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-frames")).to_have_text("12 frames")
    expect(page.locator("#job-title")).to_have_text("browser-user.mp4")  # jobs told apart
    said = page.evaluate("window.seenFrames")  # once every frame is made, no time is left
    assert not [text for text in said if re.match(r"^(\d+) of \1 frames · about", text)], said
    expect(page.locator("#jobs-rows tr")).to_have_count(1)
    row = page.locator("#jobs-rows tr").first.locator("td")
    expect(row.nth(0)).to_have_text("browser-user.mp4")
    expect(row.nth(0).locator("span")).to_have_attribute("title", "browser-user.mp4")  # "…"
    expect(row.nth(2)).to_have_text("completed")
    created = row.nth(1).locator("time")
    stamp = created.get_attribute("datetime")  # the API's createdAt
    assert stamp.endswith("Z"), stamp
    shown = " ".join(created.inner_text().split())
    assert shown == local_time(stamp), shown  # Tokyo's time, not UTC's

    if storyboard.is_visible():
        tiles = page.locator("#storyboard-tiles .tile")
        expect(tiles).to_have_count(12)  # one cue per frame
        sheet = tiles.first.locator("div").evaluate("e => getComputedStyle(e).backgroundImage")
        assert "/api/v1/storyboards/" in sheet
        loaded = page.request.get(sheet.removeprefix('url("').removesuffix('")'))
        assert loaded.status == 200
        assert loaded.headers["content-type"] == "image/jpeg"
    screenshot(page, "user-page")
    page.set_viewport_size(PHONE)
    fits_the_screen(page)

    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == "browser-user-frames.zip"  # named after it
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
    info = page.locator("#info")  # information (role=status), not the red alert
    expect(info).to_contain_text("Confirm your email address with the link")
    expect(info).to_have_attribute("role", "status")
    expect(page.locator("#notice")).to_be_hidden()
    assert page.evaluate("Object.keys(sessionStorage)") == ["frameforge.refreshToken"]
    assert page.evaluate("Object.keys(localStorage)") == []

    page.goto(stack.api + "/api/v1/auth/verify-email?token=x.y.z")  # a bad or expired link
    expect(info).to_contain_text("That confirmation link is invalid or has expired")
    assert "#" not in page.url
    mails = mail_to("grace@example.com")
    page.get_by_role("button", name="Send a new link").click()  # POST /auth/verification
    expect(info).to_contain_text("We sent a new link to grace@example.com")
    assert wait_for(lambda: mail_to("grace@example.com") == mails + 1)

    link = verification_link(Path(os.environ["FRAMEFORGE_HOME"]) / "mail", "grace@example.com")
    assert link is not None
    page.goto(link)  # the mailed link: confirmed, then on to the page, still signed in
    expect(page.locator("#info-text")).to_have_text(
        "Your email address is confirmed: FrameForge will email you when your jobs finish."
    )
    expect(page.get_by_role("button", name="Send a new link")).to_be_hidden()
    expect(page.locator("#who")).to_have_text("grace@example.com")
    assert "#" not in page.url

    page.reload()  # the access token was in memory only: the refresh token gets a new one
    expect(page.locator("#who")).to_have_text("grace@example.com")
    expect(page.locator("#notice")).to_be_hidden()
    expect(info).to_be_hidden()
    expect(page.locator("#jobs-empty")).to_be_visible()

    token = page.evaluate("sessionStorage.getItem('frameforge.refreshToken')")
    with page.expect_response("**/api/v1/auth/logout") as logout:
        page.get_by_role("button", name="Sign out").click()
    assert logout.value.status == 204  # revoked on the server, not only forgotten here
    expect(page.locator("#auth")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage)") == []
    refresh = page.request.post(stack.api + "/api/v1/auth/refresh", data={"refreshToken": token})
    assert refresh.status == 401
    page.reload()
    expect(page.locator("#auth")).to_be_visible()
    expect(page.locator("#upload")).to_be_hidden()


def test_a_bad_confirmation_link_lands_on_the_page_which_offers_a_new_one(page: Page, stack):
    sign_up(page, stack, "hedy@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.goto(stack.api + "/api/v1/auth/verify-email?token=not-a-token")  # signed out
    expect(page.locator("#notice")).to_have_text(
        "That confirmation link is invalid or has expired. Sign in to have a new one sent."
    )
    page.fill("input[name=email]", "hedy@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#info")).to_have_text(
        re.compile("That confirmation link is invalid or has expired: ask for a new one.")
    )
    resend = page.get_by_role("button", name="Send a new link")
    for _ in range(5):  # 5 an hour
        with page.expect_response("**/api/v1/auth/verification") as sent:
            resend.click()
        assert sent.value.status == 202
    resend.click()
    expect(page.locator("#notice")).to_contain_text("too many requests")  # the API's 429


def test_a_refused_sign_in_or_password_is_said_on_the_page(page: Page, stack):
    page.set_viewport_size(PHONE)
    page.goto(stack.api + "/")
    fits_the_screen(page)  # the sign-in form on a phone
    page.fill("input[name=email]", "nobody@example.com")
    page.fill("input[name=password]", "not the password 1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#notice")).to_have_text("invalid email or password")  # the API's word
    expect(page.locator("#upload")).to_be_hidden()

    page.fill("input[name=email]", "weak@example.com")
    page.fill("input[name=password]", "abcdefghijkl")
    page.get_by_role("button", name="Create account").click()  # a 422, field by field
    expect(page.locator("#notice")).to_have_text("password: mix letters with digits or symbols")

    page.evaluate(  # whether the last error was still up while the next attempt ran
        """() => {
          window.staleWhileBusy = [];
          const button = document.querySelector("button[value=register]");
          new MutationObserver(() => button.disabled && window.staleWhileBusy.push(
            !document.getElementById("notice").hidden)).observe(button, {attributes: true});
        }"""
    )
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#who")).to_have_text("weak@example.com")
    assert page.evaluate("window.staleWhileBusy") == [False]


def local_time(stamp: str) -> str:
    """``Dec 6, 2026, 4:07 PM``: the time as en-US Chromium in Tokyo writes it."""
    moment = dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo(TIMEZONE))
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M} {moment:%p}"


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the viewport: no sideways scrolling, no cut-off job rows, nothing
    in a card (an input, a button) past the card's edge."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in page.locator("section, #jobs-rows tr").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().right)"
    ):
        assert box <= width
    overflowing = page.locator("section").evaluate_all(
        """cards => cards.flatMap(card => {
          const edge = card.getBoundingClientRect().right;
          return [...card.querySelectorAll("*")]
            .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > edge + 0.5)
            .map(e => `${e.tagName.toLowerCase()}${e.name ? "[" + e.name + "]" : ""}`);
        })"""
    )
    assert overflowing == []


def mail_to(address: str) -> int:
    """How many mails the stack wrote to ``address`` ($FRAMEFORGE_HOME/mail)."""
    folder = Path(os.environ["FRAMEFORGE_HOME"]) / "mail"
    return sum(
        f"To: {address}" in path.read_text(errors="replace") for path in folder.glob("*.eml")
    )


def wait_for(condition, seconds: float = 30) -> bool:
    """Whether ``condition()`` comes true within ``seconds`` (a mail written after the answer)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def sign_up(page: Page, stack, email: str) -> None:
    page.goto(stack.api + "/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#who")).to_have_text(email)


def submit(page: Page, path, fps: str = "1", format: str = "jpg") -> None:
    page.set_input_files("input[name=video]", path)
    page.fill("input[name=fps]", fps)
    page.select_option("select[name=format]", format)
    page.get_by_role("button", name="Upload and extract").click()


def test_a_running_job_counts_its_frames_and_can_be_cancelled_retried_and_deleted(
    page: Page, stack, make_clip, screenshot
):
    sign_up(page, stack, "linus@example.com")
    long_clip = make_clip("browser-long.mp4", seconds=60, size=(1280, 720))
    # 1,800 PNG frames of 720p: long enough to be seen while counted (progress is written
    # every 2 s; at 360p a quiet machine had them all before the page saw a count)
    submit(page, long_clip.path, fps="30", format="png")
    frames = page.locator("#job-frames")
    expect(frames).to_have_text(
        re.compile(r"^\d+ of 1800 frames · about \d+ (s|min) left$"), timeout=JOB_TIMEOUT * 1000
    )
    done = int(frames.inner_text().split()[0])
    assert 0 < done < 1800
    bar = int(page.locator("#job-progress").get_attribute("value"))
    assert 0 < bar < 100  # the bar moves with the frames, not by asset steps
    screenshot(page, "user-page-running")

    page.locator("#cancel").click()
    expect(page.locator("#job-status")).to_have_text("cancelled")
    expect(page.locator("#cancel")).to_be_hidden()
    card = page.locator("#job-frames").inner_text()  # "N of 1800 frames": where it stopped
    listed = page.locator("#jobs-rows tr").first.locator("td").nth(3)
    expect(listed).to_have_text(card.removesuffix(" frames"))  # the list says the same
    detail = page.locator("#job-detail").inner_text()
    assert detail.startswith("60.0 s · 1280\u00d7720 · h264"), detail
    page.evaluate(  # what the card says of the video while the retry waits and starts
        """() => {
          window.seenDetail = [];
          const detail = document.getElementById("job-detail");
          new MutationObserver(() => window.seenDetail.push(detail.textContent))
            .observe(detail, {childList: true});
        }"""
    )
    page.locator("#retry").click()
    expect(page.locator("#job-status")).not_to_have_text("cancelled")
    expect(page.locator("#cancel")).to_be_visible()
    page.locator("#cancel").click()
    expect(page.locator("#job-status")).to_have_text("cancelled")
    assert set(page.evaluate("window.seenDetail")) <= {detail}  # its facts never went missing

    page.once("dialog", lambda dialog: dialog.accept())  # "Delete browser-long.mp4 for good?"
    page.locator("#delete").click()
    expect(page.locator("#job")).to_be_hidden()
    expect(page.locator("#jobs-empty")).to_be_visible()  # its jobs went with it
    expect(page.locator("#jobs-said")).to_have_text(
        "browser-long.mp4 is deleted, with its frames and ZIPs."
    )


def test_a_failed_job_says_why_and_is_still_shown_after_a_reload(
    page: Page, stack, undecodable_video, tmp_path, screenshot
):
    sign_up(page, stack, "ada.failed@example.com")
    notes = tmp_path / "notes.txt"
    notes.write_text("Meeting notes\n" * 40)
    submit(page, notes)  # refused at once: no job, nothing left behind
    expect(page.locator("#notice")).to_have_text("video rejected: not a video file: it holds text")
    expect(page.locator("#jobs-empty")).to_be_visible()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    submit(page, empty)  # said on the page, as the CLI says it
    expect(page.locator("#notice")).to_have_text("the file is empty (0 bytes)")

    garbled = tmp_path / "garbled.mp4"
    garbled.write_bytes(undecodable_video)
    submit(page, garbled)  # its header is fine: its run finds out
    reason = "video rejected: the video stream cannot be decoded"
    expect(page.locator("#job-status")).to_have_text("failed", timeout=JOB_TIMEOUT * 1000)
    expect(page.locator("#job-error")).to_contain_text(reason)
    expect(page.locator("#retry")).to_be_hidden()  # it would fail the same way
    expect(page.locator("#jobs-rows tr .reason")).to_contain_text(reason)

    page.reload()  # the card and the list come back
    expect(page.locator("#job-title")).to_have_text("garbled.mp4")
    expect(page.locator("#job-error")).to_contain_text(reason)
    expect(page.locator("#jobs-rows tr")).to_have_count(1)
    assert "#job=" in page.url  # the address of this job on the page (the email links it)

    page.set_viewport_size(PHONE)
    fits_the_screen(page)
    page.locator("#job").evaluate("card => card.scrollIntoView()")  # the card and the list
    screenshot(page, "user-page-390")

    first = page.url.partition("#")[2]
    page.set_input_files("input[name=video]", garbled)
    expect(page.locator("#notice")).to_be_hidden()  # a new file: the last error is gone
    mode = page.locator("select[name=mode]")
    if mode.is_visible():  # scene mode: cuts, not a frame rate
        mode.select_option("scene")
    page.get_by_role("button", name="Upload and extract").click()
    expect(page.locator("#jobs-rows tr")).to_have_count(2)
    second = page.locator("#job-id").get_attribute("title")
    assert second not in first
    if mode.is_visible():
        expect(page.locator("#job-detail")).to_have_text("scene cuts jpg")
        expect(page.locator("#jobs-rows tr").first.locator("td").nth(4)).to_have_text(
            "scene cuts jpg"
        )
    page.evaluate(f"location.hash = '{first}'")  # the email's link, followed in this tab
    expect(page.locator("#job-id")).to_have_attribute("title", first.removeprefix("job="))
    page.go_back()  # and Back to the job before
    expect(page.locator("#job-id")).to_have_attribute("title", second)
