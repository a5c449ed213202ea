"""Why a request cannot be served as asked: the domain's errors, raised by the data layer.

Each kind says what went wrong in the user's terms (``str(error)`` is the reason shown to
them); the API maps the kinds to HTTP statuses in one place (``frameforge_api.core.errors``),
so no service or core module speaks HTTP.
"""

from __future__ import annotations


class FrameForgeError(Exception):
    """Base of the domain's errors. ``headers`` are hints for the answer (``Retry-After``,
    ``WWW-Authenticate``)."""

    def __init__(self, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.headers = headers or {}


class NotAuthenticated(FrameForgeError):
    """Wrong credentials, or a token that is invalid, expired or spent."""

    def __init__(self, reason: str):
        super().__init__(reason, {"WWW-Authenticate": "Bearer"})


class BadSignature(FrameForgeError):
    """A signed URL whose signature does not match."""


class NotFound(FrameForgeError):
    """No such thing, or not the caller's: the two are never told apart."""


class Invalid(FrameForgeError):
    """A request that names something it may not (a video that is not the caller's)."""


class Conflict(FrameForgeError):
    """The request does not fit the current state (a job already ended, a taken email)."""


class Expired(FrameForgeError):
    """A signed URL past its time."""


class TooLarge(FrameForgeError):
    """More bytes than allowed."""


class EmptyUpload(FrameForgeError):
    """An upload without a single byte."""


class RateLimited(FrameForgeError):
    """Past the request limit; ``retry_after`` seconds until the next request is allowed."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(FrameForgeError):
    """Something the request needs does not answer (the database, the Dagster instance)."""


# what a user reads when a store stalls or is down: the same request works again soon, and
# which store it was is the operators' business (the logs name it)
BRIEFLY_UNAVAILABLE = "the service is briefly unavailable; retry in a few seconds"


class TemporarilyUnavailable(Unavailable):
    """A store the request needs stopped answering in the middle of it (the app database,
    the Dagster instance): the same request may well succeed in ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class QuotaExceeded(FrameForgeError):
    """A user's quota (stored bytes) would be passed; ``str`` names the limit."""


class TooManyJobs(QuotaExceeded):
    """The user has as many unfinished jobs as allowed: the next may come once one ends."""
