"""The daemon watch's rule on a fake instance and a fake clock: a daemon that reported is
wedged after the tolerance of silence, one that has not reported yet since it was (re)started
only after the start-up allowance (a slow start is no wedge). The real daemon, frozen, is in
tests/integration/faults/test_wedged_daemon.py."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from frameforge import daemon_watch
from frameforge.daemon_watch import STARTUP_SECONDS, DaemonWatch

TOLERANCE = 40.0


class Clock:
    """Both of the watch's clocks, moved by hand: monotonic and the heartbeats' unix time."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


class Instance:
    """The two reads the watch makes; ``beat()`` is a heartbeat of every type, now."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.heartbeats: dict[str, SimpleNamespace] = {}

    def beat(self) -> None:
        self.heartbeats = {
            kind: SimpleNamespace(timestamp=self.clock.time()) for kind in ("SENSOR", "QUEUE")
        }

    def get_daemon_heartbeats(self) -> dict[str, SimpleNamespace]:
        return self.heartbeats

    def get_required_daemon_types(self) -> list[str]:
        return ["SENSOR", "QUEUE"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(daemon_watch, "time", clock)
    monkeypatch.setattr(daemon_watch, "CHECK_SECONDS", 3600.0)  # the test calls check()
    return clock


@pytest.fixture
def watched(clock: Clock) -> Iterator[tuple[DaemonWatch, Instance]]:
    instance = Instance(clock)
    watch = DaemonWatch(instance, TOLERANCE)  # type: ignore[arg-type]
    yield watch, instance
    watch.stop()


def test_a_daemon_that_reported_is_wedged_after_the_tolerance(clock, watched):
    watch, instance = watched
    clock.now += 10
    instance.beat()
    watch.check()
    clock.now += TOLERANCE
    watch.check()  # the same heartbeats: no news
    assert not watch.wedged
    clock.now += 1
    assert watch.wedged
    instance.beat()
    watch.check()
    assert not watch.wedged


def test_a_daemon_not_reporting_yet_has_the_start_up_allowance(clock, watched):
    watch, _ = watched
    clock.now += STARTUP_SECONDS
    watch.check()  # nothing in the instance yet
    assert not watch.wedged
    clock.now += 1
    assert watch.wedged


def test_a_restarted_daemon_has_the_start_up_allowance_again(clock, watched):
    watch, instance = watched
    instance.beat()
    clock.now += 1
    watch.check()
    watch.restarted()
    clock.now += TOLERANCE + 1
    watch.check()  # the old daemon's heartbeats are older than the restart: not the new one's
    assert not watch.wedged
    clock.now += STARTUP_SECONDS
    assert watch.wedged
