"""The OpenAPI document as client generators read it: operation ids, the upload's body,
and errors declared as the application/problem+json they are served as."""

import datetime as dt

from frameforge_api.api.schemas import JobOut, VideoFactsOut
from frameforge_pipeline.engine.options import ExtractOptions

OPERATIONS = {
    ("post", "/api/v1/auth/register"): "register",
    ("post", "/api/v1/auth/login"): "login",
    ("post", "/api/v1/auth/refresh"): "refresh",
    ("post", "/api/v1/auth/logout"): "logout",
    ("get", "/api/v1/auth/verify-email"): "verify_email",
    ("post", "/api/v1/auth/verification"): "resend_verification",
    ("post", "/api/v1/auth/validate"): "validate",
    ("delete", "/api/v1/auth/me"): "delete_account",
    ("delete", "/api/v1/videos/{video_id}"): "delete_video",
    ("post", "/api/v1/videos/upload-url"): "upload_url",
    ("put", "/api/v1/uploads/{video_id}"): "receive_upload",
    ("get", "/api/v1/downloads/{job_id}"): "download",
    ("post", "/api/v1/videos/jobs"): "create_job",
    ("get", "/api/v1/videos/jobs"): "list_jobs",
    ("get", "/api/v1/videos/jobs/{job_id}"): "get_job",
    ("post", "/api/v1/videos/jobs/{job_id}/cancel"): "cancel_job",
    ("post", "/api/v1/videos/jobs/{job_id}/retry"): "retry_job",
    ("get", "/api/v1/videos/jobs/{job_id}/storyboard.vtt"): "get_storyboard",
    ("get", "/api/v1/storyboards/{job_id}/{name}"): "get_storyboard_sheet",
    ("get", "/health"): "health",
    ("get", "/ready"): "ready",
}


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_operation_ids_are_the_route_names(client):
    schema = client.get("/openapi.json").json()
    ids = {(method, path): op["operationId"] for method, path, op in _operations(schema)}
    assert ids == OPERATIONS


def test_the_upload_declares_its_binary_body(client):
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/uploads/{video_id}"]["put"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }


def test_errors_are_declared_as_problem_json_only(client):
    schema = client.get("/openapi.json").json()
    declared = 0
    for method, path, operation in _operations(schema):
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            declared += 1
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
            }, (method, path, status)
        if path.startswith("/api/v1/"):
            assert {"413", "429", "503"} <= operation["responses"].keys(), (method, path)
    assert declared >= 12 * 8
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_job_video_facts_never_show_where_the_file_lives():
    facts = {
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "width": 1280,
        "source": "/srv/frameforge/store/uploads/v/clip.mp4",
        "location": "s3://results/v/frames.zip",
        "uploaded_from": "file:///home/alice/clip.mp4",
        "copy": "https://bucket.s3.amazonaws.com/uploads/v/clip.mp4",
        "Path": "uploads/v/clip.mp4",
    }
    job = JobOut(
        job_id="j",
        video_id="v",
        file_name="clip.mp4",
        status="completed",
        progress=1.0,
        frame_count=1,
        frames_done=1,
        frames_expected=1,
        options=ExtractOptions(),
        video=facts,
        error=None,
        retryable=False,
        download_url=None,
        download_expires_at=None,
        created_at=dt.datetime.now(dt.UTC),
        started_at=None,
        finished_at=None,
    )
    assert job.video.model_dump(exclude_none=True) == {
        "demuxer": "mov,mp4,m4a,3gp,3g2,mj2",  # what a probe before short names called it
        "width": 1280,
    }


def test_job_video_facts_are_camel_case_as_the_rest_of_the_api():
    schema = JobOut.model_json_schema(by_alias=True, mode="serialization")
    facts = schema["$defs"]["VideoFactsOut"]["properties"]
    assert {"codedWidth", "sizeBytes", "fpsExact", "hasAudio", "frameCount"} <= facts.keys()
    assert all("_" not in name for name in facts)
    manifest = {"coded_width": 1920, "size_bytes": 10, "fps_exact": "25", "has_audio": True}
    shown = VideoFactsOut.model_validate(manifest).model_dump(by_alias=True, exclude_none=True)
    assert shown == {"codedWidth": 1920, "sizeBytes": 10, "fpsExact": "25", "hasAudio": True}
