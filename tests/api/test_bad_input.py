"""Inputs that once made the API answer 500 (on PostgreSQL, which stores no NUL and no
out-of-range integer): each is a 4xx problem, on SQLite and on PostgreSQL, and every answer,
a 500 included, carries the security headers."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from frameforge_api.main import SECURITY_HEADERS, create_app
from frameforge_api.services import jobs
from tests.api.conftest import problem, sign_up_on
from tests.integration.conftest import _new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    with _new_database() as name:  # skips (fails in CI) when PostgreSQL is not there
        yield f"postgresql+psycopg://127.0.0.1:5432/{name}"


def assert_secured(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


def _upload_url(client, user, **body):
    return client.post(  # json.dumps escapes what UTF-8 cannot carry ("\ud800")
        "/api/v1/videos/upload-url",
        content=json.dumps({"filename": "clip.mp4", "contentType": "video/mp4", **body}),
        headers={**user, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filename": "clip\x00.mp4"}, "filename"),
        ({"filename": "clip\r\n.mp4"}, "filename"),
        ({"filename": "clip\u202egpj.exe"}, "filename"),  # right-to-left override
        ({"filename": "clip\ud800.mp4"}, "filename"),  # a lone surrogate: not UTF-8
        ({"contentType": "video/\x00mp4"}, "contentType"),
        ({"contentType": "video/mp4\r\nX-Evil: 1"}, "contentType"),
        ({"contentType": "not a media type"}, "contentType"),
    ],
)
def test_control_characters_in_upload_fields_are_422(client, alice, body, field):
    answer = _upload_url(client, alice, **body)
    status, detail = problem(answer)
    assert status == 422, detail
    assert detail.startswith(f"{field}: ")
    assert_secured(answer)


def test_ordinary_names_and_media_types_still_pass(client, alice):
    answer = _upload_url(
        client, alice, filename="Férias 2024, 日本 (1).MP4", contentType='video/mp4; codecs="avc1"'
    )
    assert answer.status_code == 200, answer.json()


def test_nul_in_video_id_is_422(client, alice):
    answer = client.post("/api/v1/videos/jobs", json={"videoId": "abc\x00"}, headers=alice)
    assert problem(answer)[0] == 422
    assert_secured(answer)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/videos/jobs/abc%00",
        "/api/v1/videos/jobs/abc%00/cancel",
        "/api/v1/videos/jobs/%0d%0aabc",
    ],
)
def test_control_characters_in_a_path_are_404(client, alice, path):
    answer = client.post(path, headers=alice) if path.endswith("cancel") else None
    answer = answer or client.get(path, headers=alice)
    assert problem(answer)[0] == 404
    assert_secured(answer)


@pytest.mark.parametrize("bad", ["Infinity", "-Infinity", "NaN", "1e999"])
@pytest.mark.parametrize("option", ["start", "end", "fps"])
def test_non_finite_options_are_422(client, alice, upload, bad, option, undecodable_video):
    video_id = upload(alice, undecodable_video)
    answer = client.post(
        "/api/v1/videos/jobs",
        content=f'{{"videoId": "{video_id}", "options": {{"{option}": {bad}}}}}',
        headers={**alice, "Content-Type": "application/json"},
    )
    status, detail = problem(answer)
    assert status == 422, detail
    assert detail.startswith(f"options.{option}: ")
    assert_secured(answer)


@pytest.mark.parametrize("cursor", ["2147483648", "999999999999999999"])
def test_a_cursor_past_any_job_is_422(client, alice, cursor):
    answer = client.get(f"/api/v1/videos/jobs?cursor={cursor}", headers=alice)
    assert problem(answer)[0] == 422
    assert_secured(answer)


def test_the_largest_cursor_still_works(client, alice):
    answer = client.get("/api/v1/videos/jobs?cursor=2147483647", headers=alice)
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "nextCursor": None}


def test_a_500_carries_the_security_headers(settings, instance, storage, database_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs, "page", broken)
    app = create_app(settings, instance=instance, storage=storage, database_url=database_url)
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/api/v1/videos/jobs", headers=sign_up_on(client, "eve@example.com"))
    assert problem(answer) == (500, "an unexpected error occurred; it has been logged")
    assert "a bug" not in answer.text
    assert_secured(answer)
    assert answer.headers["X-Trace-Id"]
