"""Inputs that once made the API answer 500 (on PostgreSQL, which stores no NUL and no
out-of-range integer): each is a 4xx problem, on SQLite and on PostgreSQL, and every answer,
a 500 included, carries the security headers."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from frameforge_api.main import SECURITY_HEADERS, create_app
from frameforge_api.services import jobs
from frameforge_core.models import Video, VideoJob
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


def test_malformed_json_says_where_it_stops(client, alice, database):
    answer = client.post(
        "/api/v1/videos/jobs",
        content='{"videoId": ',
        headers={**alice, "Content-Type": "application/json"},
    )
    assert problem(answer) == (
        422,
        "the body is not valid JSON: expecting value at character 13",
    )
    assert "errors" not in answer.json()  # no field named "12"
    assert_secured(answer)
    with database.session() as session:
        assert session.query(VideoJob).count() == 0


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/videos/jobs", "text/plain", '{"videoId": "v"}'),
        ("/api/v1/videos/upload-url", "text/plain", '{"filename": "clip.mp4"}'),
        ("/api/v1/auth/login", "application/x-www-form-urlencoded", "email=a%40b.c&password=x"),
        ("/api/v1/videos/jobs", None, '{"videoId": "v"}'),  # no Content-Type at all
    ],
)
def test_a_body_not_sent_as_json_is_415(client, alice, database, path, content_type, body):
    headers = {**alice, "Content-Type": content_type} if content_type else alice
    if content_type is None:  # the test client sets none for raw content
        assert "content-type" not in client.build_request("POST", path, content=body).headers
    answer = client.post(path, content=body, headers=headers)
    assert problem(answer) == (415, "send the body as application/json")
    assert_secured(answer)
    with database.session() as session:
        assert session.query(VideoJob).count() == session.query(Video).count() == 0


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/v1/videos/jobs", "GET, POST"), ("/api/v1/videos/upload-url", "POST")],
)
def test_a_method_the_path_does_not_allow_is_405(client, alice, upload, path, allowed):
    video_id = upload(alice, b"any bytes")
    answer = client.delete(path, headers=alice)
    assert problem(answer) == (405, f"DELETE is not allowed here; this path allows {allowed}")
    assert answer.headers["Allow"] == allowed
    assert_secured(answer)
    # the video beside those paths is still there, and still deleted by its own path
    assert client.delete(f"/api/v1/videos/{video_id}", headers=alice).status_code == 204


def test_an_empty_file_is_refused_before_its_slot(client, alice, database):
    answer = _upload_url(client, alice, sizeBytes=0)
    assert problem(answer) == (400, "the file is empty (0 bytes)")  # as the CLI says it
    with database.session() as session:
        assert session.query(Video).count() == 0


def test_a_file_over_the_limit_is_told_in_units(
    settings, instance, storage, database_url, database
):
    settings = settings.model_copy(update={"max_upload_bytes": 2 * 2**30})
    client = TestClient(create_app(settings, instance, storage, database_url))
    alice = sign_up_on(client, "alice@example.com")
    answer = _upload_url(client, alice, sizeBytes=3 * 2**30 + 2**30 // 100)
    assert problem(answer) == (413, "uploads are limited to 2 GiB; this file is 3.0 GiB")
    with database.session() as session:
        assert session.query(Video).count() == 0
