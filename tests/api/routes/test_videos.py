from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import problem


def slot(client, user, size=None, filename="clip.mp4"):
    body = {"filename": filename, "contentType": "video/mp4"}
    if size is not None:
        body["sizeBytes"] = size
    answer = client.post("/api/v1/videos/upload-url", json=body, headers=user)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_upload_url_then_put_stores_the_file(client, alice, storage):
    answer = slot(client, alice, size=5, filename="../../My Holiday (1).MP4")
    assert answer["method"] == "PUT"
    assert answer["headers"] == {"Content-Type": "video/mp4"}
    put = client.put(answer["uploadUrl"], content=b"12345", headers=answer["headers"])
    assert put.status_code == 201
    assert put.json() == {"videoId": answer["videoId"], "sizeBytes": 5}
    assert storage.list_keys(f"uploads/{answer['videoId']}/") == [
        f"uploads/{answer['videoId']}/My_Holiday_1_.MP4"
    ]


def test_a_second_upload_to_the_same_url_is_409(client, alice):
    answer = slot(client, alice)
    assert client.put(answer["uploadUrl"], content=b"abc").status_code == 201
    assert problem(client.put(answer["uploadUrl"], content=b"abc")) == (
        409,
        "this video has already been uploaded",
    )


def test_upload_url_needs_a_token(client):
    answer = client.post("/api/v1/videos/upload-url", json={"filename": "a.mp4"})
    assert problem(answer) == (401, "missing bearer token")


def test_announced_size_over_the_limit_is_413(client, alice):
    answer = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "big.mp4", "sizeBytes": 2_000_000},
        headers=alice,
    )
    # in sizes a person reads (the page shows it as it is)
    assert problem(answer) == (413, "uploads are limited to 976.6 KiB; this file is 1.9 MiB")


def test_body_larger_than_announced_is_413_and_nothing_is_stored(client, alice, storage):
    answer = slot(client, alice, size=10)
    put = client.put(answer["uploadUrl"], content=b"x" * 11)
    assert problem(put)[0] == 413
    assert storage.list_keys("uploads/") == []


def test_streamed_body_over_the_limit_is_413(client, alice, storage):
    answer = slot(client, alice, size=10)

    def chunks():  # no Content-Length: the limit is enforced while streaming
        yield b"x" * 8
        yield b"x" * 8

    put = client.put(answer["uploadUrl"], content=chunks())
    assert problem(put) == (413, "the upload is larger than the 10 bytes allowed")
    assert storage.list_keys("uploads/") == []


def test_empty_upload_is_400(client, alice):
    answer = slot(client, alice)
    assert problem(client.put(answer["uploadUrl"], content=b"")) == (
        400,
        "the file is empty (0 bytes)",
    )


def test_tampered_or_expired_upload_urls_are_refused(client, alice, storage):
    answer = slot(client, alice)
    url = urlsplit(answer["uploadUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    base = url.path

    not_hex = {**query, "signature": "é" * 64}
    assert problem(client.put(base, params=not_hex, content=b"x"))[0] == 422
    forged = {**query, "signature": "0" * 64}
    assert problem(client.put(base, params=forged, content=b"x")) == (
        403,
        "the signature of this URL is not valid",
    )
    later = {**query, "expires": str(int(query["expires"]) + 3600)}
    assert problem(client.put(base, params=later, content=b"x"))[0] == 403

    other_video = base.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert problem(client.put(other_video, params=query, content=b"x"))[0] == 403
    assert storage.list_keys("uploads/") == []


def test_an_expired_upload_url_is_410(client, alice, settings, monkeypatch):
    import datetime as dt

    from frameforge_api.services import uploads

    answer = slot(client, alice)
    url = urlsplit(answer["uploadUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    real_datetime = dt.datetime

    class Later(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + dt.timedelta(minutes=16)

    monkeypatch.setattr(uploads.dt, "datetime", Later)
    monkeypatch.setattr("frameforge_api.api.routes.videos.dt.datetime", Later)
    put = client.put(url.path, params=query, content=b"x")
    assert problem(put) == (410, "this URL has expired; ask for a new one")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/uploads/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/uploads/../../etc/passwd",
        "/api/v1/uploads/%2e%2e",
    ],
)
def test_path_traversal_in_upload_ids_goes_nowhere(client, storage, path):
    answer = client.put(path, params={"expires": "9999999999", "signature": "0" * 64}, content=b"x")
    assert answer.status_code in (403, 404)
    assert storage.list_keys("uploads/") == []
