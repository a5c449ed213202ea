"""A client generated from /openapi.json by openapi-python-client drives a video from
registration to its ZIP, over HTTP to a real uvicorn on loopback: the contract as clients
see it (operation names, the upload's binary body, problem+json errors)."""

import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_pipeline.engine.archive import zip_problems
from tests.api.conftest import served
from tests.api.routes.test_jobs import run_queue

pytestmark = pytest.mark.slow
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "frameforge_generated_client"


@pytest.fixture
def api(instance, storage, database_url) -> Iterator[str]:
    """The app on uvicorn, on a free loopback port, in a thread; yields its URL."""

    def build(url: str) -> FastAPI:
        settings = Settings(JWT_SECRET="g" * 40, public_url=url, max_upload_bytes=1_000_000)
        return create_app(settings, instance=instance, storage=storage, database_url=database_url)

    with served(build) as url:
        yield url


@pytest.fixture
def generated(api: str, tmp_path: Path):
    """The client package, generated from the running API's own document and imported."""
    import httpx

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(httpx.get(f"{api}/openapi.json").json()))
    # the generator knows binary bodies only as octet-stream: a storyboard sheet is a file too
    config = tmp_path / "generator.json"
    config.write_text(
        json.dumps({"content_type_overrides": {"image/jpeg": "application/octet-stream"}})
    )
    environment = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"}
    made = subprocess.run(
        [GENERATOR, "generate", "--path", document, "--meta", "none", "--config", config,
         "--output-path", tmp_path / PACKAGE],
        capture_output=True, text=True, env=environment, timeout=300, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Warning" not in made.stdout + made.stderr, made.stdout + made.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _signed(url: str) -> tuple[str, int, str]:
    """The id in a signed URL's path, its expiry and its signature."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[1], int(query["expires"][0]), query["signature"][0]


def test_a_generated_client_goes_from_registration_to_the_zip(
    api, generated, make_clip, instance, defs, database, storage
):
    def operation(tag: str, name: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")

    register, login = operation("auth", "register"), operation("auth", "login")
    upload_url, receive_upload = (
        operation("videos", "upload_url"),
        operation("videos", "receive_upload"),
    )
    download = operation("videos", "download")
    create_job, get_job = operation("jobs", "create_job"), operation("jobs", "get_job")
    models = generated.models
    types = importlib.import_module(f"{PACKAGE}.types")
    anonymous = generated.Client(base_url=api, raise_on_unexpected_status=True)

    credentials = models.Credentials(email="gen@example.com", password="client made me 7")
    registered = register.sync_detailed(client=anonymous, body=credentials)
    assert registered.status_code == 201
    weak = register.sync_detailed(
        client=anonymous, body=models.Credentials(email="weak@example.com", password=" " * 10)
    )
    assert weak.status_code == 422  # a problem document, parsed by the generated model
    assert isinstance(weak.parsed, models.ProblemOut)
    assert weak.parsed.detail == "password: use more than blank characters"
    assert weak.headers["content-type"] == "application/problem+json"

    tokens = login.sync(
        client=anonymous, body=models.Login(email="gen@example.com", password="client made me 7")
    )
    assert isinstance(tokens, models.Tokens)
    user = generated.AuthenticatedClient(base_url=api, token=tokens.access_token)

    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    slot = upload_url.sync(
        client=user,
        body=models.UploadUrlIn(
            filename="clip.mp4", content_type="video/mp4", size_bytes=len(data)
        ),
    )
    assert isinstance(slot, models.UploadUrlOut)
    video_id, expires, signature = _signed(slot.upload_url)
    assert video_id == slot.video_id
    uploaded = receive_upload.sync_detailed(
        video_id,
        client=anonymous,
        body=types.File(payload=io.BytesIO(data), file_name="clip.mp4", mime_type="video/mp4"),
        expires=expires,
        signature=signature,
    )
    assert uploaded.status_code == 201
    assert uploaded.parsed.size_bytes == len(data)

    options = models.ExtractOptions(fps=2.0)
    created = create_job.sync(
        client=user,
        body=models.JobIn(video_id=video_id, options=options),
        idempotency_key="generated-1",
    )
    assert isinstance(created, models.JobCreated)
    assert created.status == "queued"
    queued = get_job.sync(created.job_id, client=user)
    assert queued.status == "queued"
    missing = get_job.sync_detailed("no-such-job", client=user)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.ProblemOut)

    [request] = run_queue(instance, defs, database)
    assert request.run_key == f"{created.job_id}:0"

    done = get_job.sync(created.job_id, client=user)
    assert done.status == "completed"
    assert done.frame_count == 10
    facts = done.video.to_dict()
    assert facts["width"] > 0
    for value in facts.values():  # where the file lives on the server is not the user's
        text = str(value)
        assert not text.startswith(("/", "file:")), facts
        assert "://" not in text, facts
        assert str(storage.root) not in text, facts
    job_id, expires, signature = _signed(done.download_url)
    archive = download.sync_detailed(job_id, client=anonymous, expires=expires, signature=signature)
    assert archive.status_code == 200
    assert zip_problems(io.BytesIO(archive.content)) == []
