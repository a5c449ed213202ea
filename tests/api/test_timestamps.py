"""Every time the API returns is RFC 3339 in UTC with ``Z``, whatever the database answers
(SQLite keeps no zone, PostgreSQL answers in its session's zone): a browser in Tokyo must not
take a job made a minute ago for one made at 4:32 AM."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter

from frameforge_api.api import schemas
from tests.api.routes.test_jobs import create_job

NAIVE = dt.datetime(2026, 12, 6, 4, 13, 41, 996084)  # what SQLite gives back
TOKYO = dt.datetime(2026, 12, 6, 13, 13, 41, 996084, tzinfo=dt.timezone(dt.timedelta(hours=9)))
IN_UTC = "2026-12-06T04:13:41.996084Z"


def _refs(node: Any) -> set[str]:
    """The component names a part of the OpenAPI document refers to."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _response_components(document: dict[str, Any]) -> set[str]:
    """Every schema a response of any operation can hold, nested ones included."""
    components = document["components"]["schemas"]
    responses = [
        answer
        for item in document["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
    ]
    found, todo = set(), _refs(responses)
    while todo:
        name = todo.pop()
        found.add(name)
        todo |= _refs(components[name]) - found
    return found


def _is_date_time(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date-time" or any(
        _is_date_time(option) for option in schema.get("anyOf", [])
    )


def test_every_datetime_of_every_response_schema_is_written_in_utc_with_z(client):
    document = client.get("/openapi.json").json()
    walked = []
    for name in sorted(_response_components(document)):
        properties = document["components"]["schemas"][name].get("properties", {})
        for alias, schema in properties.items():
            if not _is_date_time(schema):
                continue
            model = getattr(schemas, name)  # every response body is declared in schemas
            field = next(f for f in model.model_fields.values() if f.alias == alias)
            annotation = field.annotation
            if field.metadata:
                annotation = Annotated[(annotation, *field.metadata)]
            adapter = TypeAdapter(annotation)
            for moment in (NAIVE, TOKYO):
                written = json.loads(adapter.dump_json(adapter.validate_python(moment)))
                assert written == IN_UTC, (name, alias, moment)
            walked.append(f"{name}.{alias}")
    assert {"JobOut.createdAt", "UserOut.createdAt", "UploadUrlOut.expiresAt"} <= set(walked)


@pytest.mark.parametrize("moment", [NAIVE, TOKYO], ids=["naive", "tokyo"])
def test_an_instant_is_utc_with_z(moment):
    job_time = TypeAdapter(schemas.Instant)
    assert job_time.dump_json(job_time.validate_python(moment)) == f'"{IN_UTC}"'.encode()


def test_a_job_made_just_now_says_so_in_utc(client, alice, upload, make_clip):
    before = dt.datetime.now(dt.UTC)
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    for body in (
        client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json(),
        client.get("/api/v1/videos/jobs", headers=alice).json()["items"][0],
    ):
        assert body["createdAt"].endswith("Z"), body["createdAt"]
        created = dt.datetime.fromisoformat(body["createdAt"])
        assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)
