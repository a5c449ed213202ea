"""The API's settings, read from the environment by ``Settings()`` where the app is built.

``LinkSettings`` (the signing key, the public URL, link lifetimes) is shared with the worker,
so the links it puts in emails are ones the API accepts; ``RetentionSettings`` with the
pipeline, so a 410 says how long results are kept; the rest is the API's own.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from frameforge_core.settings import JobQuotaSettings, LinkSettings, RetentionSettings, former


class Settings(LinkSettings, RetentionSettings, JobQuotaSettings):
    """The API's own: token lifetimes, request and upload limits, quotas, Redis, CORS and
    `/metrics`."""

    jwt_expires_in: int = Field(
        3600, gt=0, validation_alias=former("JWT_EXPIRES_IN"), description="access-token lifetime"
    )
    refresh_expires_in: int = Field(
        30 * 24 * 3600,
        gt=0,
        validation_alias=former("REFRESH_EXPIRES_IN"),
        description="refresh-token lifetime",
    )
    max_upload_bytes: int = Field(2 * 1024**3, gt=0, description="upload limit")
    max_body_bytes: int = Field(
        64 * 1024,
        gt=0,
        description="largest request body outside uploads (JSON of a few hundred bytes); past "
        "it the answer is 413 and the body is not read",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="the bearer token `/metrics` asks for (compared in constant time); unset, "
        "`/metrics` is open in development and 404 in production",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='JSON list of allowed origins, e.g. `["https://app.example.com"]`',
    )
    redis_url: str | None = Field(
        None,
        validation_alias="REDIS_URL",
        description="e.g. `redis://127.0.0.1:6379/0`: the rate limit and the cache shared by "
        "all API processes (unset: per process)",
    )
    # per-user quotas (services/quotas.py); the upload size is max_upload_bytes, a job's
    # video and frames are JobQuotaSettings' (the pipeline enforces them too)
    quota_concurrent_jobs: int = Field(
        5,
        gt=0,
        description="queued and running jobs a user may have at once (new jobs, renditions "
        "and retries are counted one after the other: 429 past it)",
    )
    quota_stored_bytes: int = Field(
        20 * 1024**3,
        gt=0,
        description="bytes a user may keep: uploads (an upload URL not yet used reserves its "
        "`sizeBytes`, or the upload limit without it) and every job's frames, manifest, "
        "storyboard and ZIP",
    )
    # brute force and sign-up floods: per client address (core/rate_limit.py, AuthLimits)
    auth_requests_per_minute: int = Field(
        60,
        gt=0,
        description="auth requests (login, register, refresh) per client address a minute "
        "(logins on one account: 10 per 10 min from one address, 100 an hour from anywhere)",
    )
    registrations_per_hour: int = Field(
        20, gt=0, description="accounts one client address may make an hour"
    )
    dagster_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="the longest a request waits for the Dagster instance, per call; past it "
        "the answer is 503 with `Retry-After` (a stalled Dagster database)",
    )
