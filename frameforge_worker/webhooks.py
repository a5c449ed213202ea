"""Signed webhooks to a job's ``callbackUrl`` (Standard Webhooks: https://www.standardwebhooks.com).

Receivers verify ``webhook-signature`` with the job's ``whsec_`` secret and drop duplicates by
``webhook-id``, which is the same for every delivery of one event. In production a callback
may not point into our own network (SSRF): its host must resolve to public addresses only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from frameforge_core.mail import DeliveryError
from frameforge_worker.notice import JobNotice, Links

TIMEOUT_SECONDS = 10.0
TRACE_HEADER = "x-frameforge-trace-id"
USER_AGENT = "FrameForge-Webhooks/1"
_EXCERPT = 200  # characters of a refusing receiver's answer kept in the log


def payload(notice: JobNotice, links: Links, now: dt.datetime) -> dict[str, Any]:
    """``{type, timestamp, data}``; ``data`` has only the keys that apply to the outcome."""
    data: dict[str, Any] = {"jobId": notice.job_id, "videoId": notice.video_id,
                            "status": notice.status}  # fmt: skip
    if notice.completed:
        data["frameCount"] = notice.frame_count
        data["downloadUrl"] = links.webhook_download(notice.job_id).url
    else:
        data["error"] = notice.error
    return {"type": notice.event, "timestamp": now.isoformat(), "data": data}


def check_destination(url: str, allow_private: bool) -> None:
    """Raises DeliveryError (permanent) for a URL that is not http(s) or, unless
    ``allow_private``, whose host resolves to a loopback, private, link-local or other
    non-public address; DeliveryError (transient) when the name does not resolve now.

    The address is checked before the request, not pinned for it: a name that changes
    between the two (DNS rebinding) is not caught here; an egress proxy or network policy is
    the complete answer in production.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DeliveryError(f"callback URL {url!r} has an invalid port", permanent=True) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"callback URL {url!r} is not an http(s) URL", permanent=True)
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except (socket.gaierror, UnicodeError) as error:
        raise DeliveryError(f"cannot resolve {parts.hostname}: {error}") from None
    for address in addresses:
        if not _public(str(address)):
            raise DeliveryError(
                f"callback host {parts.hostname} resolves to {address}, which is not a public "
                "address: refused",
                permanent=True,
            )


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 zone is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class WebhookSender:
    """POSTs signed payloads; 2xx is success, anything else (redirects too) a failure."""

    def __init__(self, links: Links, allow_private: bool, client: httpx.Client | None = None):
        self._links = links
        self._allow_private = allow_private
        self._client = client or httpx.Client(
            timeout=TIMEOUT_SECONDS, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def send(self, notice: JobNotice) -> str:
        """Deliver ``notice`` to its callback URL; returns the receiver's status line.
        Raises DeliveryError."""
        if not notice.callback_url or not notice.callback_secret:
            raise DeliveryError("the job has no callback URL and secret", permanent=True)
        check_destination(notice.callback_url, self._allow_private)
        now = dt.datetime.now(dt.UTC)
        body = json.dumps(payload(notice, self._links, now), separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "webhook-id": notice.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": _sign(notice.callback_secret, notice.event_id, now, body),
        }
        if notice.trace_id:
            headers[TRACE_HEADER] = notice.trace_id
        try:
            response = self._client.post(notice.callback_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"POST {_shown(notice.callback_url)}: {error!r}") from None
        status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        if not response.is_success:
            excerpt = response.text[:_EXCERPT].strip()
            raise DeliveryError(f"{status}: {excerpt}" if excerpt else status)
        return status

    def close(self) -> None:
        self._client.close()


def _shown(url: str) -> str:
    """The URL for logs: scheme and host only. Receivers put their tokens in credentials,
    the query and the path (Slack's and Discord's webhook URLs, say)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def _sign(secret: str, event_id: str, now: dt.datetime, body: str) -> str:
    try:
        return Webhook(secret).sign(event_id, now, body)
    except (ValueError, EmptyWebhookSecretError) as error:  # not base64, or empty
        message = f"the job's webhook secret is unusable: {error!r}"
        raise DeliveryError(message, permanent=True) from None
