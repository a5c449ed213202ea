"""Signed webhooks to a receiver on loopback that verifies them with the Standard Webhooks
library, retries, and the SSRF guard of production."""

import base64
import dataclasses
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from frameforge_core.mail import DeliveryError
from frameforge_worker.notifier import EMAIL, WEBHOOK
from frameforge_worker.webhooks import WebhookSender, check_destination
from tests.worker import support
from tests.worker.conftest import log_rows


def test_completed_webhook_is_signed_and_says_where_to_download(
    sessions, notifier, webhook_receiver, smtp_server
):
    job = support.add_job(sessions, callback_url=webhook_receiver.url)

    assert notifier.handle(support.outcome(job), "trace-7") == []

    [(headers, payload)] = webhook_receiver.received  # verified by the receiver
    assert headers["webhook-id"] == f"{job.id}:0:video.job.completed"
    assert headers["x-frameforge-trace-id"] == "trace-7"
    assert payload["type"] == "video.job.completed"
    assert dt.datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    data = payload["data"]
    assert {k: v for k, v in data.items() if k != "downloadUrl"} == {
        "jobId": job.id, "videoId": job.video_id, "status": "completed", "frameCount": 12
    }  # fmt: skip
    expires = int(parse_qs(urlsplit(data["downloadUrl"]).query)["expires"][0])
    assert expires - dt.datetime.now(dt.UTC).timestamp() <= 15 * 60  # the API's short TTL
    assert log_rows(sessions, WEBHOOK) == [(1, "sent")]
    assert len(smtp_server.messages) == 1  # and the email, as always


def test_failed_webhook_carries_the_reason_and_no_link(sessions, notifier, webhook_receiver):
    job = support.add_job(sessions, "failed", callback_url=webhook_receiver.url)

    notifier.handle(support.outcome(job), "t")

    [(_, payload)] = webhook_receiver.received
    assert payload["type"] == "video.job.failed"
    assert payload["data"] == {"jobId": job.id, "videoId": job.video_id, "status": "failed",
                               "error": "the file is not a video (no video stream)"}  # fmt: skip


def test_a_500_is_retried_with_the_same_webhook_id(sessions, notifier, webhook_receiver, sleeps):
    job = support.add_job(sessions, callback_url=webhook_receiver.url)
    webhook_receiver.statuses = [500]

    assert notifier.handle(support.outcome(job), "t") == []

    first, second = (headers["webhook-id"] for headers, _ in webhook_receiver.received)
    assert first == second  # the receiver can drop a duplicate
    assert log_rows(sessions, WEBHOOK) == [(1, "failed"), (2, "sent")]
    assert sleeps == [2.0]


def test_a_wrong_signature_is_refused_by_the_receiver(sessions, notifier, webhook_receiver):
    job = support.add_job(sessions, callback_url=webhook_receiver.url)
    webhook_receiver.secret = "whsec_" + base64.b64encode(b"another key 24 bytes....").decode()

    assert notifier.handle(support.outcome(job), "t") == [WEBHOOK]

    assert webhook_receiver.refused == 3
    assert log_rows(sessions, WEBHOOK) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert log_rows(sessions, EMAIL) == [(1, "sent")]  # one channel failing spares the other


def test_production_refuses_a_private_callback_without_calling_it(
    sessions, notifier, links, webhook_receiver, sleeps
):
    production = WebhookSender(links, allow_private=False)
    guarded = dataclasses.replace(notifier, webhooks=production)
    job = support.add_job(sessions, callback_url=webhook_receiver.url)

    assert guarded.handle(support.outcome(job), "t") == [WEBHOOK]

    production.close()
    assert webhook_receiver.received == []
    assert webhook_receiver.refused == 0
    assert log_rows(sessions, WEBHOOK) == [(1, "failed")]  # not retried: it cannot change
    assert sleeps == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",  # IPv4 in IPv6 clothing
        "http://224.0.0.1/hook",
    ],
)
def test_non_public_destinations_are_refused_in_production(url):
    with pytest.raises(DeliveryError, match="not a public address") as refused:
        check_destination(url, allow_private=False)
    assert refused.value.permanent


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "http:///x",
                                 "http://example.com:99999/"])  # fmt: skip
def test_only_http_urls_are_callbacks(url, allow_private):
    with pytest.raises(DeliveryError) as refused:
        check_destination(url, allow_private)
    assert refused.value.permanent


def test_public_addresses_pass_and_development_allows_loopback():
    check_destination("https://93.184.215.14/hook", allow_private=False)
    check_destination("http://127.0.0.1:9/hook", allow_private=True)
