"""Published outbox messages are kept a week (to answer "was it sent, and when?"), then
deleted, so the table does not grow without end."""

import datetime as dt

import dagster as dg

from frameforge_core import outbox
from frameforge_core.models import utcnow
from frameforge_pipeline.resources import AppDatabase

KEEP = dt.timedelta(days=7)


@dg.sensor(
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes outbox messages published more than a week ago.",
)
def outbox_retention(database: AppDatabase) -> dg.SkipReason:
    deleted = outbox.prune(database.session, published_before=utcnow() - KEEP)
    return dg.SkipReason(f"{deleted} outbox messages published before {KEEP.days} days ago deleted")
