"""What the API says of results that retention deleted (sensors/video_retention.py)."""

from __future__ import annotations

import datetime as dt

from frameforge_core.errors import Expired


def expired(what: str, when: dt.datetime, retention_days: int) -> Expired:
    """The 410 of something retention deleted: when, and why (``retention_days``: the
    operator's ``FRAMEFORGE_RETENTION_DAYS``, from the app's settings)."""
    return Expired(
        f"{what} were deleted on {when:%Y-%m-%d}: results are kept {retention_days} days after "
        "a video's last job; upload the video again to extract it anew"
    )
