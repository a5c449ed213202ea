"""The worker's own settings, read from the environment (the links it shares with the API
come from ``frameforge_core.settings.LinkSettings``: the same JWT_SECRET signs both)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from frameforge_core.settings import HomeSettings, former

DEFAULT_SENDER = "FrameForge <noreply@localhost>"


class WorkerSettings(HomeSettings):
    """Email, webhooks and the relay's pace; emails go to ``$FRAMEFORGE_HOME/mail`` when
    ``FRAMEFORGE_SMTP_HOST`` is unset."""

    smtp_host: str | None = Field(
        None,
        validation_alias=former("SMTP_HOST"),
        description="email through this SMTP server; unset, emails are written as `.eml` "
        "files to `$FRAMEFORGE_HOME/mail/`",
    )
    smtp_port: int = Field(
        587,
        gt=0,
        lt=65536,
        validation_alias=former("SMTP_PORT"),
        description="the SMTP server's port (submission, STARTTLS when offered)",
    )
    smtp_user: str | None = Field(
        None, validation_alias=former("SMTP_USER"), description="the SMTP login"
    )
    smtp_password: SecretStr | None = Field(
        None, validation_alias=former("SMTP_PASSWORD"), description="the SMTP password"
    )
    smtp_from: str = Field(
        DEFAULT_SENDER, validation_alias=former("SMTP_FROM"), description="the emails' sender"
    )
    notify_backoff_seconds: float = Field(
        2.0,
        ge=0,
        description="first wait between delivery attempts (2: attempts at 0, 2 and 6 s)",
    )
    webhook_allow_private: bool | None = Field(
        None,
        description="`true` lets callbacks go to loopback and private addresses, which "
        "production refuses otherwise",
    )
    relay_interval_seconds: float = Field(
        0.5, gt=0, description="how often the outbox relay looks for events to send"
    )
