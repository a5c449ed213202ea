"""The stack as real processes in the production configuration: the app database and the
Dagster instance on PostgreSQL, jobs and events through RabbitMQ, cache and rate limit in
Redis, uploads and results in S3 (moto over HTTP), email over SMTP (aiosmtpd), a signed
webhook — one trace id from the HTTP request to the email."""

import io
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import boto3
import httpx2
import pytest
import redis
from standardwebhooks.webhooks import Webhook

from frameforge.demo import running_stack
from frameforge_api.services import verification
from frameforge_pipeline.engine.archive import zip_problems
from tests.e2e.test_embedded_stack import wait_for
from tests.helpers import wait_until
from tests.integration.conftest import require

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/14"
METRICS = "e2e-metrics-token"


class Receiver(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.calls = []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def production_env(tmp_path, monkeypatch, postgres_url, rabbitmq_url, moto_endpoint, smtp_server):
    require("127.0.0.1", 6379, "Redis")
    redis.Redis.from_url(REDIS_URL).flushdb()  # this test's database: limits start at zero
    suffix = uuid.uuid4().hex[:10]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    for bucket in (f"uploads-{suffix}", f"results-{suffix}"):
        s3.create_bucket(Bucket=bucket)
    env = {
        "FRAMEFORGE_HOME": str(tmp_path / "home"),
        "FRAMEFORGE_ENV": "production",
        "FRAMEFORGE_METRICS_TOKEN": METRICS,
        "JWT_SECRET": uuid.uuid4().hex * 2,
        "DATABASE_URL": postgres_url,
        # one database for the app and Dagster (one RDS instance), the URL as Dagster's docs
        # write it; separate databases are what every integration test runs on
        "DAGSTER_PG_URL": postgres_url.replace("postgresql+psycopg://", "postgresql://"),
        "RABBITMQ_URL": rabbitmq_url,
        "REDIS_URL": REDIS_URL,
        "FRAMEFORGE_S3_ENDPOINT_URL": moto_endpoint,
        "FRAMEFORGE_S3_UPLOADS_BUCKET": f"uploads-{suffix}",
        "FRAMEFORGE_S3_RESULTS_BUCKET": f"results-{suffix}",
        "FRAMEFORGE_SMTP_HOST": smtp_server.host,
        "FRAMEFORGE_SMTP_PORT": str(smtp_server.port),
        "FRAMEFORGE_SMTP_FROM": "FrameForge <frames@example.com>",
        "FRAMEFORGE_NOTIFY_BACKOFF_SECONDS": "0.2",
        "FRAMEFORGE_WEBHOOK_ALLOW_PRIVATE": "1",  # the test's receiver is on loopback
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return env


def test_upload_to_email_in_the_production_configuration(
    tmp_path, production_env, smtp_server, webhook_url, make_clip
):
    trace = uuid.uuid4().hex
    with (
        running_stack(tmp_path / "stack.log") as stack,
        httpx2.Client(base_url=stack.api, headers={"X-Trace-Id": trace}) as client,
    ):
        account = {"email": "prod@example.com", "password": "fifteen frames 15"}
        assert client.post("/api/v1/auth/register", json=account).status_code == 201
        mailed = wait_until(lambda: smtp_server.messages, 60, "no verification email", 0.2)[0]
        link = verification.link_in(mailed.get_content())
        assert link, mailed.get_content()
        assert client.get(link).status_code == 303  # verified: the job's email may go
        token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"

        data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
        slot = client.post("/api/v1/videos/upload-url", json={"filename": "clip.mp4"}).json()
        endpoint = production_env["FRAMEFORGE_S3_ENDPOINT_URL"]
        assert slot["uploadUrl"].startswith(endpoint)  # presigned PUT
        put = httpx2.request(
            slot["method"], slot["uploadUrl"], content=data, headers=slot["headers"]
        )
        assert put.status_code == 200
        created = client.post(
            "/api/v1/videos/jobs", json={"videoId": slot["videoId"], "callbackUrl": webhook_url}
        ).json()
        job_id, secret = created["jobId"], created["webhookSecret"]

        done = wait_for(client, job_id)
        assert done["status"] == "completed", done
        assert done["frameCount"] == 5
        archive = httpx2.get(done["downloadUrl"], follow_redirects=True)  # presigned S3 GET
        assert zip_problems(io.BytesIO(archive.content)) == []

        email = wait_until(lambda: smtp_server.messages[1:], 60, "the email did not arrive", 0.2)[0]
        assert email["To"] == "prod@example.com"
        assert email["X-FrameForge-Trace-Id"] == trace  # HTTP request -> run -> email
        link = re.search(r"https?://\S+/downloads/\S+", email.get_content())
        assert link, email.get_content()
        emailed = httpx2.get(link.group(0), follow_redirects=True)
        assert emailed.content == archive.content

        headers, body = wait_until(lambda: Receiver.calls, 60, "the webhook did not arrive", 0.2)[0]
        Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
        assert json.loads(body)["data"]["jobId"] == job_id

        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS}"}).text
        assert 'video_processing_total{status="completed"} 1.0' in metrics
        assert "video_frames_extracted_total 5.0" in metrics
