"""API settings from the environment. ``get_settings()`` is the one place they are read."""

from __future__ import annotations

import functools
import os
import secrets
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from frameforge_core.settings import frameforge_home

MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    frameforge_env: Literal["development", "production"] = "development"
    jwt_secret: SecretStr | None = None
    jwt_expires_in: int = Field(3600, gt=0)
    refresh_expires_in: int = Field(30 * 24 * 3600, gt=0)
    public_url: str = Field("http://127.0.0.1:8000", alias="FRAMEFORGE_PUBLIC_URL")
    max_upload_bytes: int = Field(2 * 1024**3, gt=0, alias="FRAMEFORGE_MAX_UPLOAD_BYTES")
    url_ttl_seconds: int = Field(15 * 60, gt=0)
    # download links in emails: read hours or days later, so longer than url_ttl_seconds
    email_link_ttl_seconds: int = Field(
        7 * 24 * 3600, gt=0, alias="FRAMEFORGE_EMAIL_LINK_TTL_SECONDS"
    )
    cors_origins: list[str] = Field(default_factory=list, alias="FRAMEFORGE_CORS_ORIGINS")
    redis_url: str | None = None  # unset: rate limits are counted in process

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if self.frameforge_env == "production" and len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"JWT_SECRET must be set to at least {MIN_SECRET_LENGTH} random characters "
                "when FRAMEFORGE_ENV=production (e.g. `openssl rand -hex 32`)"
            )
        return self

    @functools.cached_property
    def signing_key(self) -> str:
        """JWT_SECRET, or in development a random key made once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret.get_secret_value()
        return _data_dir_secret(frameforge_home() / "secret.key")


def _data_dir_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: when two processes start together, exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    for _ in range(50):  # the writer may still be writing
        if key := path.read_text().strip():
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it and start again")


@functools.cache
def get_settings() -> Settings:
    """Raises pydantic.ValidationError with a clear message for bad settings."""
    return Settings()
