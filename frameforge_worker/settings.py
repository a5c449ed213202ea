"""The worker's own settings, read from the environment (links and secrets it shares with the
API come from ``frameforge_api.core.config.Settings``: the same JWT_SECRET signs both)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SENDER = "FrameForge <noreply@localhost>"


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    rabbitmq_url: str | None = None  # unset: the embedded default, no broker
    smtp_host: str | None = None  # unset: emails are written to $FRAMEFORGE_HOME/mail
    smtp_port: int = Field(587, gt=0, lt=65536)  # submission port, STARTTLS when offered
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = DEFAULT_SENDER
    notify_backoff_seconds: float = Field(2.0, ge=0, alias="FRAMEFORGE_NOTIFY_BACKOFF_SECONDS")
    # callbacks to loopback/private addresses: refused in production unless set to true
    webhook_allow_private: bool | None = Field(None, alias="FRAMEFORGE_WEBHOOK_ALLOW_PRIVATE")
    relay_interval_seconds: float = Field(0.5, gt=0, alias="FRAMEFORGE_RELAY_INTERVAL_SECONDS")
