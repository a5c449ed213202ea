"""The Dagster instance with a bound on every call, for whoever must not wait on it: the
API's requests, and `frameforge up`'s watch over the daemon's heartbeats.

A stalled Dagster database (the connection open, no byte moving) leaves a query waiting for
an answer libpq has no timeout for; the connection bounds (frameforge_core/connection_bounds)
end it in the end, but a request must not wait that long. So each call to the instance runs
in a thread of its own and the caller waits ``seconds`` at most (the API:
``FRAMEFORGE_DAGSTER_TIMEOUT_SECONDS``, 5 s): past that it gets ``TemporarilyUnavailable``
(the API answers 503 with ``Retry-After``), and the call finishes, or fails, in the
background when the database answers or the connection is dropped.

A thread per call, not a pool: calls stuck on a lost connection would hold a pool's threads
for ever and every later call would wait behind them. A call's thread costs ~0.1 ms, next
to the query's milliseconds; the threads of calls still waiting are counted
(``waiting_calls``), and past ``MAX_WAITING_CALLS`` a call fails at once rather than add one.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar, cast

import dagster as dg

from frameforge_core.errors import BRIEFLY_UNAVAILABLE, TemporarilyUnavailable

T = TypeVar("T")
MAX_WAITING_CALLS = 200  # stuck calls' threads: beyond this, refuse instead of piling up
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


class BoundedInstance:
    """Stands for a ``dg.DagsterInstance`` (``bounded``): each method call is bounded, every
    other attribute is the instance's own."""

    def __init__(self, instance: dg.DagsterInstance, seconds: float):
        self._instance = instance
        self._seconds = seconds
        self._waiting = 0
        self._lock = threading.Lock()

    @property
    def waiting_calls(self) -> int:
        """Calls whose request gave up on them and that have not ended yet."""
        with self._lock:
            return self._waiting

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._instance, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            return self.call(value, *args, **kwargs)

        return bounded

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` within the bound. Raises TemporarilyUnavailable past
        it; the function's own exception otherwise."""
        with self._lock:
            if self._waiting >= MAX_WAITING_CALLS:
                raise TemporarilyUnavailable(BRIEFLY_UNAVAILABLE, RETRY_AFTER_SECONDS)
        result: Future[T] = Future()
        threading.Thread(
            target=self._run, args=(result, function, args, kwargs), daemon=True
        ).start()
        try:
            return result.result(timeout=self._seconds)
        except FutureTimeout:
            pass
        with self._lock:
            self._waiting += 1
        result.add_done_callback(self._ended)  # at once if it has just ended
        log.warning(
            "the Dagster instance did not answer %s within %g s",
            getattr(function, "__name__", "a call"),
            self._seconds,
        )
        raise TemporarilyUnavailable(BRIEFLY_UNAVAILABLE, RETRY_AFTER_SECONDS)

    @staticmethod
    def _run(
        result: Future[T], function: Callable[..., T], args: Any, kwargs: dict[str, Any]
    ) -> None:
        try:
            result.set_result(function(*args, **kwargs))
        except BaseException as error:  # handed to the request, or dropped if it gave up
            result.set_exception(error)

    def _ended(self, _: Future[Any]) -> None:
        with self._lock:
            self._waiting -= 1


def bounded(instance: dg.DagsterInstance, seconds: float) -> dg.DagsterInstance:
    """``instance`` with every method call answering within ``seconds`` (see the module)."""
    return cast(dg.DagsterInstance, BoundedInstance(instance, seconds))
