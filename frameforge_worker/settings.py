"""The worker's own settings, read from the environment (the links it shares with the API
come from ``frameforge_core.settings.LinkSettings``: the same JWT_SECRET signs both)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from frameforge_core.settings import HomeSettings

DEFAULT_SENDER = "FrameForge <noreply@localhost>"


class WorkerSettings(HomeSettings):
    """Email, webhooks and the relay's pace; emails go to ``$FRAMEFORGE_HOME/mail`` when
    ``SMTP_HOST`` is unset."""

    smtp_host: str | None = None  # unset: emails are written to $FRAMEFORGE_HOME/mail
    smtp_port: int = Field(587, gt=0, lt=65536)  # submission port, STARTTLS when offered
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = DEFAULT_SENDER
    notify_backoff_seconds: float = Field(2.0, ge=0, alias="FRAMEFORGE_NOTIFY_BACKOFF_SECONDS")
    # callbacks to loopback/private addresses: refused in production unless set to true
    webhook_allow_private: bool | None = Field(None, alias="FRAMEFORGE_WEBHOOK_ALLOW_PRIVATE")
    relay_interval_seconds: float = Field(0.5, gt=0, alias="FRAMEFORGE_RELAY_INTERVAL_SECONDS")
