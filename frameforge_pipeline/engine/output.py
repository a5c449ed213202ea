"""From chosen frames to records in the sink: encoded in a thread pool, delivered in order.

``encoded_in_order`` renders the chosen frames on ``workers`` threads with at most
``in_flight`` waiting; ``FrameOutput`` numbers, names and writes each, dropping a picture
that repeats the last one kept (dedupe), and reports progress.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction

import av

from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.picture_stats import PictureStats, hamming
from frameforge_pipeline.engine.records import FrameRecord, FrameSink, Progress, frame_name
from frameforge_pipeline.engine.render import RenderPlan

Encoded = tuple[bytes, PictureStats]


def encoded_in_order(
    chosen: Iterable[tuple[Fraction, av.VideoFrame]],
    encode: Callable[[av.VideoFrame], Encoded],
    workers: int,
    in_flight: int,
) -> Iterator[tuple[Fraction, bool, Encoded]]:
    """``(seconds, keyframe, encoded)`` of each chosen frame, in the order chosen."""
    waiting: deque[tuple[Fraction, bool, Future[Encoded]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
        for when, frame in chosen:
            waiting.append((when, frame.key_frame, pool.submit(encode, frame)))
            if len(waiting) > in_flight:
                when, keyframe, future = waiting.popleft()
                yield when, keyframe, future.result()
        while waiting:
            when, keyframe, future = waiting.popleft()
            yield when, keyframe, future.result()


class FrameOutput:
    """Writes encoded frames to ``sink`` as numbered records; keeps what it wrote. Raises
    the ``limits``' errors at the first frame past the job's frames or its video's length
    (what could not be known before decoding: scene mode's cuts, untimed or jumping
    timelines)."""

    def __init__(
        self,
        sink: FrameSink,
        plan: RenderPlan,
        options: ExtractOptions,
        expected: int,
        limits: Limits,
        on_progress: Callable[[Progress], None] | None = None,
    ):
        self._sink, self._plan, self._options = sink, plan, options
        self._expected = expected
        self._limits = limits
        self._on_progress = on_progress
        self.records: list[FrameRecord] = []
        self.dropped = 0  # repeats of the last kept picture (dedupe)
        self._last_kept: int | None = None  # its pHash

    def deliver(self, when: Fraction, keyframe: bool, encoded: Encoded) -> None:
        """Write the frame at ``when`` (seconds), unless dedupe finds it a repeat."""
        data, stats = encoded
        distance = self._options.dedupe
        last = self._last_kept
        if distance is not None and last is not None and hamming(stats.phash, last) <= distance:
            self.dropped += 1
            return
        self._limits.check_reached(when)
        self._limits.check_extracted(len(self.records) + 1, self._options.mode)
        self._last_kept = stats.phash
        self._write(when, keyframe, data, stats)
        if self._on_progress:
            done = len(self.records) + self.dropped
            self._on_progress(Progress(done, max(self._expected, done)))

    def _write(self, when: Fraction, keyframe: bool, data: bytes, stats: PictureStats) -> None:
        timestamp_ms = round(float(when * 1000), 3)
        named = timestamp_ms if self._options.timestamp_names else None
        record = FrameRecord(
            index=len(self.records),
            timestamp_ms=timestamp_ms,
            file=frame_name(len(self.records), self._plan.extension, named),
            bytes=len(data),
            width=self._plan.width,
            height=self._plan.height,
            sha256=hashlib.sha256(data).hexdigest(),
            phash=f"{stats.phash:016x}",
            brightness=stats.brightness,
            sharpness=stats.sharpness,
            keyframe=keyframe,
        )
        self._sink.write(record, data)
        self.records.append(record)
