"""The API's settings, read from the environment by ``Settings()`` where the app is built.

``LinkSettings`` (the signing key, the public URL, link lifetimes) is shared with the worker,
so the links it puts in emails are ones the API accepts; the rest is the API's own.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from frameforge_core.settings import LinkSettings


class Settings(LinkSettings):
    jwt_expires_in: int = Field(3600, gt=0)
    refresh_expires_in: int = Field(30 * 24 * 3600, gt=0)
    max_upload_bytes: int = Field(2 * 1024**3, gt=0, alias="FRAMEFORGE_MAX_UPLOAD_BYTES")
    # every other request body (JSON of a few hundred bytes): refused past this, unread
    max_body_bytes: int = Field(64 * 1024, gt=0, alias="FRAMEFORGE_MAX_BODY_BYTES")
    # the bearer token Prometheus sends for /metrics; unset: open in development, 404 in
    # production
    metrics_token: SecretStr | None = Field(None, alias="FRAMEFORGE_METRICS_TOKEN")
    cors_origins: list[str] = Field(default_factory=list, alias="FRAMEFORGE_CORS_ORIGINS")
    redis_url: str | None = None  # unset: rate limits and the cache live in the process
    # per-user quotas (services/quotas.py); the upload size is max_upload_bytes
    quota_concurrent_jobs: int = Field(5, gt=0, alias="FRAMEFORGE_QUOTA_CONCURRENT_JOBS")
    # a day of video: a long one is extracted in segments side by side (one that cannot be
    # split is refused by the pipeline past 3 h, frameforge_pipeline/segmenting.py)
    quota_video_seconds: float = Field(24 * 3600, gt=0, alias="FRAMEFORGE_QUOTA_VIDEO_SECONDS")
    quota_frames_per_job: int = Field(20_000, gt=0, alias="FRAMEFORGE_QUOTA_FRAMES_PER_JOB")
    quota_stored_bytes: int = Field(20 * 1024**3, gt=0, alias="FRAMEFORGE_QUOTA_STORED_BYTES")
    # brute force and sign-up floods: per client address (core/rate_limit.py, AuthLimits)
    auth_requests_per_minute: int = Field(60, gt=0, alias="FRAMEFORGE_AUTH_REQUESTS_PER_MINUTE")
    registrations_per_hour: int = Field(20, gt=0, alias="FRAMEFORGE_REGISTRATIONS_PER_HOUR")
