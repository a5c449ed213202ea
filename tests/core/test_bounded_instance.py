"""Unit tests of the bounded instance with a fake instance (the stall against a real
PostgreSQL is tests/integration/faults/test_dagster_stall.py)."""

from __future__ import annotations

import threading

import pytest

from frameforge_core import bounded_instance
from frameforge_core.bounded_instance import BoundedInstance
from frameforge_core.errors import BRIEFLY_UNAVAILABLE, TemporarilyUnavailable
from tests.helpers import wait_until


class FakeInstance:
    """Answers at once, raises, or waits until ``release`` is set."""

    root_directory = "/somewhere"

    def __init__(self) -> None:
        self.release = threading.Event()

    def get_runs(self, limit: int) -> list[int]:
        return list(range(limit))

    def broken(self) -> None:
        raise ValueError("the storage's own error")

    def stalled(self) -> str:
        self.release.wait()
        return "late"


def test_answers_errors_and_attributes_pass_through():
    bounded = BoundedInstance(FakeInstance(), seconds=5)  # type: ignore[arg-type]
    assert bounded.get_runs(limit=3) == [0, 1, 2]
    with pytest.raises(ValueError, match="the storage's own error"):
        bounded.broken()
    assert bounded.root_directory == "/somewhere"


def test_a_stalled_call_is_unavailable_past_the_bound_and_ends_in_the_background():
    fake = FakeInstance()
    bounded = BoundedInstance(fake, seconds=0.1)  # type: ignore[arg-type]
    with pytest.raises(TemporarilyUnavailable, match=BRIEFLY_UNAVAILABLE) as raised:
        bounded.stalled()
    assert raised.value.headers == {"Retry-After": "5"}
    assert bounded.waiting_calls == 1
    fake.release.set()
    wait_until(lambda: bounded.waiting_calls == 0, what="the stalled call never ended")


def test_past_the_most_waiting_calls_a_call_fails_at_once(monkeypatch):
    monkeypatch.setattr(bounded_instance, "MAX_WAITING_CALLS", 2)
    fake = FakeInstance()
    bounded = BoundedInstance(fake, seconds=0.05)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(TemporarilyUnavailable):
            bounded.stalled()
    calls = threading.active_count()
    with pytest.raises(TemporarilyUnavailable):
        bounded.get_runs(limit=1)  # would answer, but no thread is added to the stuck ones
    assert threading.active_count() == calls
    fake.release.set()
    wait_until(lambda: bounded.waiting_calls == 0, what="the stalled calls never ended")
    assert bounded.get_runs(limit=1) == [0]
