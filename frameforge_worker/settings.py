"""The worker's own settings, read from the environment (its mail settings are the API's,
``frameforge_core.settings.MailSettings``; the links it shares with the API come from
``LinkSettings``: the same JWT_SECRET signs both)."""

from __future__ import annotations

from pydantic import Field

from frameforge_core.settings import MailSettings


class WorkerSettings(MailSettings):
    """The worker's own: webhooks, and the pace of deliveries and of the outbox relay (where
    its emails go is ``MailSettings``, the API's too)."""

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
