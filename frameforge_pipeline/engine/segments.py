"""Long videos in keyframe-aligned segments, extracted apart and joined as one piece would be.

``plan_segments`` splits the options' window at keyframes (engine.segment_plan: what each
segment reads); ``extract_segment`` chooses and encodes one segment's frames into files of a
work folder, each step on its own (another process, another pod), and returns a picklable,
JSON-able ``SegmentResult``; ``join_segments`` hands their frames, in order, to the same
numbering, naming and dedupe the one-piece extraction uses (engine.output), so the sink
receives the records and bytes ``extract`` would have given it: the manifest and the ZIP
(storyboard included, built from those frames) are the one-piece extraction's, all but
what counts the work (``decoded_frames``, ``seeks``, ``seconds``: sums over the segments).

Why the result does not depend on the split: a segment owns the frames whose time lies in
its pts range; the interval rule's targets it serves are those whose frame is one of its own
(after ``before``); keyframes mode takes the keyframes in its range; dedupe compares each
frame with the last one kept, which only the join knows, so every segment encodes all the
frames it chose (the one-piece run encodes them too before comparing) and the join drops
repeats. A frame two segments both reached (the frames between were corrupt) is kept once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from frameforge_pipeline.engine.extractor import check_limits, extract_frames
from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.output import Encoded, FrameOutput
from frameforge_pipeline.engine.picture_stats import PictureStats
from frameforge_pipeline.engine.probe import VideoFacts, probe
from frameforge_pipeline.engine.records import ExtractionResult, FrameSink, Progress, Work
from frameforge_pipeline.engine.render import RenderPlan
from frameforge_pipeline.engine.scenes import ScoreLog, shot_starts
from frameforge_pipeline.engine.segment_plan import DEFAULT_SEGMENT_SECONDS, Segment, plan, whole
from frameforge_pipeline.engine.stream_index import StreamIndex

__all__ = [
    "DEFAULT_SEGMENT_SECONDS",
    "Segment",
    "SegmentFrame",
    "SegmentResult",
    "extract_segment",
    "join_segments",
    "plan_segments",
]


@dataclass(frozen=True)
class SegmentFrame:
    """One frame a segment chose, encoded into ``file`` (relative to the work folder)."""

    seconds: str  # exact time since the first frame, a fraction as text ("12/5")
    keyframe: bool
    file: str
    phash: int
    brightness: float
    sharpness: float


@dataclass(frozen=True)
class SegmentResult:
    """What ``extract_segment`` made: its frames in order, and what reading cost."""

    index: int
    count: int  # segments in the plan
    frames: tuple[SegmentFrame, ...]
    work: Work
    rate: str = "25"  # the nominal frame rate, a fraction as text
    scores: ScoreLog | None = None  # scene mode: the frames' scores (``frames``: candidates)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentResult:
        frames = tuple(SegmentFrame(**frame) for frame in data["frames"])
        scores = data.get("scores")
        if scores is not None:
            own = [(when, score) for when, score in scores["own"]]
            scores = ScoreLog(own, [(when, score) for when, score in scores["after"]])
        work = Work(**data["work"])
        return cls(**{**data, "frames": frames, "work": work, "scores": scores})


def plan_segments(
    source: Path,
    options: ExtractOptions,
    *,
    seconds_per_segment: float = DEFAULT_SEGMENT_SECONDS,
    max_segments: int | None = None,
    limits: Limits | None = None,
) -> list[Segment]:
    """The keyframe-aligned segments of ``source``'s window (one demux pass), each about
    ``seconds_per_segment`` of video, at most ``max_segments``. One segment when the video
    is short or cannot be split: then ``segments[0].whole_because`` says why when it is
    not its length. Raises what ``probe`` raises, and the ``limits``' errors the stream
    index shows before decoding (a video longer than allowed, more frames than allowed)."""
    limits = limits or Limits()
    facts = probe(source, limits)
    index = StreamIndex.scan(source)
    check_limits(whole(facts, index, options), options, limits)
    return plan(facts, index, options, seconds_per_segment, max_segments)


def segment_folder(index: int) -> str:
    """The folder (relative to the work folder) of a segment's frames."""
    return f"segment_{index:05d}"


def extract_segment(
    source: Path,
    options: ExtractOptions,
    segment: Segment,
    workdir: Path | None,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    save: Callable[[str, bytes], None] | None = None,
) -> SegmentResult:
    """Choose and encode ``segment``'s frames into ``workdir/segment_NNNNN/`` (made, and
    emptied first: a retried segment starts clean), or hand each to ``save(name, data)``
    (names ``segment_NNNNN/000012.jpg``: a store's keys; its caller empties that prefix
    before a retry). ``on_progress`` counts this segment's frames as the one-piece run
    counts all of them: done / expected (at least done); in scene mode, the candidates
    (the join keeps the shot starts among them). Memory holds a few frames in flight, as in
    the one-piece run, and a few numbers a frame. Raises what ``extract`` raises."""
    began = time.perf_counter()
    limits = limits or Limits()
    facts = probe(source, limits)
    extension = RenderPlan.for_video(facts, options).extension
    store = save or _folder_writer(workdir, segment.index)
    frames: list[SegmentFrame] = []

    def deliver(when: Fraction, keyframe: bool, encoded: Encoded) -> None:
        data, stats = encoded
        name = f"{segment_folder(segment.index)}/{len(frames):06d}{extension}"
        store(name, data)
        frames.append(
            SegmentFrame(str(when), keyframe, name, stats.phash, stats.brightness, stats.sharpness)
        )
        if on_progress:
            on_progress(Progress(len(frames), max(segment.expected_frames, len(frames))))

    log = ScoreLog() if options.mode == "scene" else None
    read = extract_frames(
        source, facts, options, segment, deliver, workers, limits, log, began=began
    )
    return SegmentResult(
        index=segment.index,
        count=segment.count,
        frames=tuple(frames),
        work=read.work,
        rate=str(read.rate),
        scores=log,
    )


def _folder_writer(workdir: Path | None, index: int) -> Callable[[str, bytes], None]:
    """Writes a segment's frames under ``workdir``, its folder emptied first."""
    if workdir is None:
        raise ValueError("extract_segment needs a workdir or a save function")
    folder = workdir / segment_folder(index)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()

    def write(name: str, data: bytes) -> None:
        (workdir / name).write_bytes(data)

    return write


def join_segments(
    facts: VideoFacts,
    options: ExtractOptions,
    results: Sequence[SegmentResult],
    sink: FrameSink,
    read: Callable[[str], bytes],
    on_progress: Callable[[Progress], None] | None = None,
    limits: Limits | None = None,
) -> ExtractionResult:
    """Hand the segments' frames, in order, to ``sink`` as the one-piece extraction would:
    numbered, named, dedupe applied across boundaries. ``read(file)`` returns a
    SegmentFrame's bytes (``lambda name: (workdir / name).read_bytes()`` for a local work
    folder). ``facts`` is the video's probe (the ``source_video`` asset). The result's
    ``seconds`` is the segments' time summed plus the join's. Raises ValueError unless
    ``results`` holds every segment of one plan once, and, as one piece does, the
    ``limits``' errors at the first frame past what a job may extract."""
    began = time.perf_counter()
    ordered = _complete(results)
    expected = sum(result.work.expected_frames for result in ordered)
    render = RenderPlan.for_video(facts, options)
    output = FrameOutput(sink, render, options, expected, limits or Limits(), on_progress)
    chosen = _shot_starts(options, ordered)
    for when, frame in _in_order(ordered):
        if chosen is not None and when not in chosen:
            continue  # a scene mode candidate that starts no shot
        stats = PictureStats(frame.phash, frame.brightness, frame.sharpness)
        output.deliver(when, frame.keyframe, (read(frame.file), stats))
    return ExtractionResult(
        facts=facts,
        options=options,
        frames=output.records,
        work=Work.summed((result.work for result in ordered), seconds=time.perf_counter() - began),
        dropped_duplicates=output.dropped,
    )


def _complete(results: Sequence[SegmentResult]) -> list[SegmentResult]:
    """``results`` in order; ValueError unless they are every segment of a plan once."""
    ordered = sorted(results, key=lambda result: result.index)
    indices = [result.index for result in ordered]
    if not ordered or indices != list(range(ordered[0].count)):
        raise ValueError(f"not every segment of the plan once: segments {indices}")
    return ordered


def _in_order(results: Sequence[SegmentResult]) -> Iterator[tuple[Fraction, SegmentFrame]]:
    """The segments' frames with their times, a frame two segments both reached (the frames
    between them were corrupt) once."""
    last: Fraction | None = None
    for result in results:
        for frame in result.frames:
            when = Fraction(frame.seconds)
            if last is None or when > last:
                last = when
                yield when, frame


def _shot_starts(options: ExtractOptions, results: Sequence[SegmentResult]) -> set[Fraction] | None:
    """Scene mode: the frames to keep among the candidates; None in other modes."""
    logs = [result.scores for result in results if result.scores is not None]
    if options.mode != "scene" or not results:
        return None
    return shot_starts(options, Fraction(results[0].rate), logs)
