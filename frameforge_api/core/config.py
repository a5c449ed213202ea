"""The API's settings, read from the environment by ``Settings()`` where the app is built.

``LinkSettings`` (the signing key, the public URL, link lifetimes) is shared with the worker,
so the links it puts in emails are ones the API accepts; the rest is the API's own.
"""

from __future__ import annotations

from pydantic import Field

from frameforge_core.settings import LinkSettings


class Settings(LinkSettings):
    jwt_expires_in: int = Field(3600, gt=0)
    refresh_expires_in: int = Field(30 * 24 * 3600, gt=0)
    max_upload_bytes: int = Field(2 * 1024**3, gt=0, alias="FRAMEFORGE_MAX_UPLOAD_BYTES")
    cors_origins: list[str] = Field(default_factory=list, alias="FRAMEFORGE_CORS_ORIGINS")
    redis_url: str | None = None  # unset: rate limits and the cache live in the process
