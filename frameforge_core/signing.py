"""Signed URLs: the API's upload and download links, which the worker also puts in emails.

A link is ``{public URL}/api/v1{path}?expires=…&signature=…``; the signature is an HMAC of
its purpose (``download:<job id>``) and expiry time with the deployment's signing key, so
the API can check it with no state of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from frameforge_core.errors import BadSignature, Expired
from frameforge_core.settings import LinkSettings


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: dt.datetime


def sign(message: str, key: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(message: str, signature: str, key: str) -> bool:
    return hmac.compare_digest(sign(message, key), signature)


def signed_url(
    settings: LinkSettings,
    path: str,
    purpose: str,
    now: dt.datetime,
    ttl_seconds: int | None = None,
) -> SignedUrl:
    """A link to ``path`` (under ``/api/v1``) for ``purpose``, valid ``ttl_seconds``
    (default ``settings.url_ttl_seconds``)."""
    ttl = settings.url_ttl_seconds if ttl_seconds is None else ttl_seconds
    expires_at = now + dt.timedelta(seconds=ttl)
    expires = int(expires_at.timestamp())
    signature = sign(f"{purpose}:{expires}", settings.signing_key)
    query = urlencode({"expires": expires, "signature": signature})
    return SignedUrl(f"{settings.public_url.rstrip('/')}/api/v1{path}?{query}", expires_at)


def check_signature(
    settings: LinkSettings, purpose: str, expires: int, signature: str, now: dt.datetime
) -> None:
    """Raises BadSignature for a wrong signature and Expired for a link past its time."""
    if not signature_matches(f"{purpose}:{expires}", signature, settings.signing_key):
        raise BadSignature("the signature of this URL is not valid")
    if now.timestamp() > expires:
        raise Expired("this URL has expired; ask for a new one")


def upload_url(settings: LinkSettings, video_id: str, now: dt.datetime) -> SignedUrl:
    """Where the bytes of ``video_id`` are PUT in the embedded default."""
    return signed_url(settings, f"/uploads/{video_id}", upload_purpose(video_id), now)


def upload_purpose(video_id: str) -> str:
    return f"upload:{video_id}"


def download_url(
    settings: LinkSettings, job_id: str, now: dt.datetime, ttl_seconds: int | None = None
) -> SignedUrl:
    """The API's link to a job's ZIP, valid ``ttl_seconds`` (default
    ``settings.url_ttl_seconds``; an email's link needs longer: email_link_ttl_seconds)."""
    return signed_url(settings, f"/downloads/{job_id}", download_purpose(job_id), now, ttl_seconds)


def download_purpose(job_id: str) -> str:
    return f"download:{job_id}"
