"""Properties of the sampling rule (hypothesis)."""

import bisect
import itertools
import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.engine.sampling import IntervalSampler, expected_count

fps_values = st.fractions(min_value=Fraction(1, 100), max_value=60, max_denominator=1001)
frame_gaps = st.lists(
    st.fractions(min_value=Fraction(1, 1000), max_value=3, max_denominator=1000),
    min_size=0,
    max_size=200,
)


def frame_times(gaps: list[Fraction]) -> list[Fraction]:
    times, now = [Fraction(0)], Fraction(0)
    for gap in gaps:
        now += gap
        times.append(now)
    return times


def brute_force(times: list[Fraction], fps: Fraction, start: Fraction, end) -> list[int]:
    """The rule as written in docs/cli.md, target by target."""
    chosen: list[int] = []
    k = 0
    while True:
        target = start + k / fps
        if target > times[-1] or (end is not None and target >= end):
            return chosen
        first = bisect.bisect_left(times, target)
        if not chosen or chosen[-1] != first:
            chosen.append(first)
        k += 1


def stream(times, fps, start=Fraction(0), end=None) -> list[int]:
    sampler = IntervalSampler(fps, start, end)
    return [i for i, t in enumerate(times) if sampler.offer(t)]


@given(frame_gaps, fps_values, st.fractions(min_value=0, max_value=10, max_denominator=10))
def test_streaming_sampler_matches_the_rule(gaps, fps, start):
    times = frame_times(gaps)
    end = start + 5 if len(gaps) % 2 else None
    assert stream(times, fps, start, end) == brute_force(times, fps, start, end)


@given(frame_gaps, fps_values)
def test_chosen_times_strictly_increase_and_lie_at_or_after_a_target(gaps, fps):
    times = frame_times(gaps)
    chosen = [times[i] for i in stream(times, fps)]
    assert all(a < b for a, b in itertools.pairwise(chosen))
    for t in chosen:  # some target lies in (previous frame, t]
        assert math.floor(t * fps) / fps <= t


@given(
    st.integers(min_value=1, max_value=2000),
    st.sampled_from([Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(60)]),
    fps_values,
)
def test_constant_rate_count_is_the_number_of_targets_up_to_the_last_frame(n, rate, fps):
    times = [i / rate for i in range(n)]
    chosen = stream(times, fps)
    assert chosen == brute_force(times, fps, Fraction(0), None)
    if fps <= rate:  # every interval holds a frame: one frame per target
        assert len(chosen) == expected_count(fps, times[-1]) == math.floor(times[-1] * fps) + 1


def test_the_readme_examples():
    at_30 = [i / Fraction(30) for i in range(120)]  # last frame at 3.967 s
    assert len(stream(at_30, Fraction(1))) == expected_count(Fraction(1), at_30[-1]) == 4
    last_at_5_24 = [Fraction(i, 25) for i in range(131)]  # last frame at 5.2 s
    assert len(stream(last_at_5_24, Fraction(1))) == 6


@given(fps_values, st.fractions(min_value=0, max_value=100, max_denominator=100))
def test_expected_count_respects_the_window(fps, last):
    start, end = Fraction(1), Fraction(4)
    targets = [start + k / fps for k in range(int((last + 1) * fps) + 2)]
    inside = [t for t in targets if start <= t <= last and t < end]
    assert expected_count(fps, last, start, end) == len(inside)
