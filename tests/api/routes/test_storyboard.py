"""GET /videos/jobs/{id}/storyboard.vtt and the signed sheets its cues point to."""

import datetime as dt
import re
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from sqlalchemy import update

from frameforge_core.models import VideoJob
from tests.api.conftest import problem
from tests.api.routes.test_jobs import create_job, run_queue

SHEET_URL = re.compile(r"^(http\S+/api/v1/storyboards/[^/]+/sheet_\d{3}\.jpg\?\S+)#xywh=(.+)$")


@pytest.fixture
def storyboard_job(client, alice, upload, make_clip, instance, defs, database):
    video_id = upload(alice, make_clip("cfr10.mp4", seconds=10).path.read_bytes())
    options = {"storyboard": True, "storyboardColumns": 5, "storyboardRows": 1, "dedupe": True}
    created = create_job(client, alice, video_id, options=options)
    assert created.status_code == 202, created.json()
    run_queue(instance, defs, database)
    return created.json()["jobId"]


def test_the_vtt_points_at_signed_sheets_the_client_can_fetch(client, alice, storyboard_job):
    answer = client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=alice)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/vtt")
    lines = answer.text.splitlines()
    assert lines[0] == "WEBVTT"
    references = [m for line in lines if (m := SHEET_URL.match(line))]
    assert len(references) == 10
    assert {m[2] for m in references[:5]} == {f"{x},0,160,120" for x in range(0, 800, 160)}
    sheets = sorted({m[1] for m in references})
    assert len(sheets) == 2  # 10 tiles, 5 a sheet
    for url in sheets:
        parts = urlsplit(url)
        sheet = client.get(f"{parts.path}?{parts.query}")  # no token: the URL is signed
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(sheet.content, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (120, 800, 3)


def test_sheets_need_a_good_signature_and_a_sheet_name(client, alice, storyboard_job):
    base = f"/api/v1/storyboards/{storyboard_job}"
    forged = client.get(
        f"{base}/sheet_000.jpg", params={"expires": 9999999999, "signature": "0" * 64}
    )
    assert problem(forged)[0] == 403
    vtt = client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=alice).text
    query = urlsplit(SHEET_URL.match(vtt.splitlines()[3])[1]).query
    assert client.get(f"{base}/sheet_000.jpg?{query}").status_code == 200
    assert problem(client.get(f"{base}/storyboard.vtt?{query}"))[0] == 404
    assert problem(client.get(f"{base}/sheet_007.jpg?{query}"))[0] == 404
    other = client.get(f"/api/v1/storyboards/another-job/sheet_000.jpg?{query}")
    assert problem(other)[0] == 403  # signed for one job only


def test_a_sheet_name_with_non_ascii_digits_is_404_not_500(client, alice, storyboard_job):
    vtt = client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=alice).text
    query = urlsplit(SHEET_URL.match(vtt.splitlines()[3])[1]).query
    answer = client.get(
        f"/api/v1/storyboards/{storyboard_job}/sheet_\u0660\u0660\u0660.jpg?{query}"
    )
    assert problem(answer) == (404, "no such storyboard sheet")


def test_a_storyboard_after_retention_is_410_with_the_reason(
    client, alice, storyboard_job, database
):
    vtt = client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=alice).text
    sheet = urlsplit(SHEET_URL.match(vtt.splitlines()[3])[1])
    with database.session() as session:
        session.execute(update(VideoJob).values(results_expired_at=dt.datetime.now(dt.UTC)))
        session.commit()
    for answer in (
        client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=alice),
        client.get(f"{sheet.path}?{sheet.query}"),
    ):
        status, detail = problem(answer)
        assert status == 410
        assert detail.startswith("the storyboard and frames of this job were deleted on ")
        assert "results are kept" in detail


def test_another_users_storyboard_does_not_exist_for_them(client, bob, storyboard_job):
    answer = client.get(f"/api/v1/videos/jobs/{storyboard_job}/storyboard.vtt", headers=bob)
    assert problem(answer)[0] == 404


def test_a_job_without_a_storyboard_is_404(
    client, alice, upload, make_clip, instance, defs, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    run_queue(instance, defs, database)
    answer = client.get(f"/api/v1/videos/jobs/{job_id}/storyboard.vtt", headers=alice)
    assert problem(answer) == (404, "this job has no storyboard")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dedupe": 65}, "dedupe"),
        ({"mode": "scenes"}, "mode"),
        ({"storyboardColumns": 0}, "storyboardColumns"),
        ({"tonemap": "hable"}, "tonemap"),
        ({"sceneThreshold": -1}, "sceneThreshold"),
    ],
)
def test_bad_new_options_are_422_naming_the_field(client, alice, upload, make_clip, options, field):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    answer = create_job(client, alice, video_id, options=options)
    status, detail = problem(answer)
    assert status == 422
    assert field in detail or field in str(answer.json().get("errors"))
