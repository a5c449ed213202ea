"""What the API says of results that retention deleted (sensors/video_retention.py)."""

from __future__ import annotations

import datetime as dt

from frameforge_core.errors import Expired
from frameforge_core.settings import OperationsSettings


def expired(what: str, when: dt.datetime) -> Expired:
    """The 410 of something retention deleted: when, and why."""
    days = OperationsSettings().frameforge_retention_days
    return Expired(
        f"{what} were deleted on {when:%Y-%m-%d}: results are kept {days} days after a "
        "video's last job; upload the video again to extract it anew"
    )
