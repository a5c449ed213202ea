"""Which frames to take and how to reach them: the seek policy and the three choosers.

Each chooser reads frames from a FrameReader and yields ``(seconds, frame)`` for the frames
its mode takes, in presentation order: ``interval_frames`` (the sampling rule's, each decoded
from where that costs fewer frames), every keyframe of the window (``window_frames`` over a
reader of keyframes) and ``scene_frames`` (the first frame of the window and of every shot).
Their inputs are arguments: the reader, the stream index, the clock and the window or
detector; ``choose`` sets them up for a segment (engine.segment_plan) or the whole video.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from fractions import Fraction

import av

from frameforge_pipeline.engine.clock import Clock
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.reader import FrameReader
from frameforge_pipeline.engine.sampling import IntervalSampler
from frameforge_pipeline.engine.scenes import SceneCuts, ScoreLog, Scores, may_cut, scene_cuts
from frameforge_pipeline.engine.segment_plan import Segment
from frameforge_pipeline.engine.stream_index import StreamIndex

Chosen = Iterator[tuple[Fraction, av.VideoFrame]]

# A seek costs about as much as decoding this many frames: the decoder's threads start again
# from a single frame. Decoding on is kept unless a seek saves more.
SEEK_COST_FRAMES = 2


def seek_for(index: StreamIndex, behind: int | None, threshold: int) -> int | None:
    """The keyframe to seek to for the first frame at or after ``threshold``, or None when
    decoding on from ``behind`` (pts of the last frame decoded; None: nothing yet) costs no
    more frames, by the index, than a seek and decoding from the keyframe."""
    keyframe = index.keyframe_at_or_before(threshold)
    if keyframe is None or (behind is not None and keyframe <= behind):
        return None
    wanted = index.frame_at_or_after(threshold)
    if wanted is None:
        return keyframe
    on = index.frames_between(None if behind is None else behind + 1, wanted)
    again = index.frames_between(keyframe, wanted)
    return keyframe if again + SEEK_COST_FRAMES < on else None


def drain_point(
    index: StreamIndex, sampler: IntervalSampler, clock: Clock, threshold: int
) -> int | None:
    """The pts of the frame ``threshold`` names when no frame after it is wanted on the way:
    the next target's frame will be reached by a seek, or there is no next target."""
    wanted = index.frame_at_or_after(threshold)
    if wanted is None or not index.distinct_pts:
        return None
    after = copy.copy(sampler)
    after.offer(clock.seconds(wanted))
    if (target := after.next_target()) is None:
        return wanted
    following = clock.pts_at_or_after(target)
    if index.last_pts is not None and following > index.last_pts:
        return wanted
    return wanted if seek_for(index, wanted, following) is not None else None


def interval_frames(
    reader: FrameReader, index: StreamIndex, clock: Clock, sampler: IntervalSampler
) -> Chosen:
    """Frames chosen by the sampling rule. Each is decoded from where that costs fewer
    frames: on from the last one, or from the keyframe before it after a seek; non-reference
    frames before it are skipped, and the decoder is drained at it when the frames after it
    are not wanted (see engine.reader)."""
    while (target := sampler.next_target()) is not None:
        threshold = clock.pts_at_or_after(target)
        if not index.discontinuous and index.last_pts is not None and threshold > index.last_pts:
            return
        decoded = _reach(reader, index, threshold, drain_point(index, sampler, clock, threshold))
        if decoded is None:
            return
        when = clock.seconds(decoded[0])
        if sampler.end is not None and when >= sampler.end:
            return  # the frame for the last target lies past the window
        sampler.offer(when)
        yield when, decoded[1]


def _reach(
    reader: FrameReader, index: StreamIndex, threshold: int, drain: int | None
) -> tuple[int, av.VideoFrame] | None:
    """The first frame at or after ``threshold`` (pts), decoded on or after a seek, whichever
    costs fewer frames (``seek_for``), draining at ``drain``; None past the last frame."""
    keyframe = seek_for(index, reader.position, threshold) if reader.can_seek else None
    if keyframe is not None:
        reader.seek(keyframe)
    decoded = reader.next_frame(threshold, drain)
    while decoded is not None and decoded[0] < threshold:
        decoded = reader.next_frame(threshold, drain)
    return decoded


def window_frames(
    reader: FrameReader, clock: Clock, start: Fraction, end: Fraction | None
) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """Every frame the reader gives from ``start`` (seconds) to before ``end``."""
    while (decoded := reader.next_frame()) is not None:
        when = clock.seconds(decoded[0])
        if end is not None and when >= end:
            return
        if when >= start:
            yield when, decoded[1]


def scene_frames(
    reader: FrameReader, index: StreamIndex, clock: Clock, options: ExtractOptions, cuts: SceneCuts
) -> Chosen:
    """The first frame of the window and the first frame of every shot after it: every
    frame is decoded and offered to the detector (engine.scenes), which may name a cut a
    few frames after it saw it; the frames it may still name are held until then."""
    start = options.start_fraction
    keyframe = index.keyframe_at_or_before(clock.pts_at_or_before(start))
    if start and reader.can_seek and keyframe is not None and keyframe > clock.origin:
        reader.seek(keyframe)
    held: dict[Fraction, av.VideoFrame] = {}
    first: Fraction | None = None
    scores = Scores()
    for when, frame in window_frames(reader, clock, start, options.end_fraction):
        found = cuts.offer(when, scores.next(frame))  # before it may go to the encoders
        held[when] = frame
        if first is None:
            first = when
            yield when, frame
        for cut in found:
            if cut != first:
                yield cut, held[cut]
        held = {t: held[t] for t in cuts.held()}


def choose(
    reader: FrameReader, segment: Segment, options: ExtractOptions, log: ScoreLog | None = None
) -> Chosen:
    """The chooser of ``options.mode``, set up for ``segment`` (the whole video, or a part
    that starts at a keyframe: the reader seeks there first, and the interval rule takes
    the targets after the frame before it). Scene mode with a ``log`` chooses candidates
    (``scene_candidates``), without one the shot starts, as they are found."""
    clock, index, before = segment.clock, segment.stream, segment.before
    if options.mode == "scene" and log is None:
        return scene_frames(reader, index, clock, options, scene_cuts(options, reader.rate))
    if before is not None and reader.can_seek and index.keyframes:
        reader.seek(index.keyframes[0])
    if log is not None:
        return scene_candidates(reader, segment, options, log)
    if options.mode == "keyframes":
        return window_frames(reader, clock, *_segment_window(segment, options))
    sampler = IntervalSampler(options.fps_fraction, options.start_fraction, options.end_fraction)
    if before is not None:
        sampler.offer(clock.seconds(before))  # its targets belong to the segments before
    return interval_frames(reader, index, clock, sampler)


def scene_candidates(
    reader: FrameReader, segment: Segment, options: ExtractOptions, log: ScoreLog
) -> Chosen:
    """Scene mode in a segment: every frame of its part of the window is scored into
    ``log`` (the cuts are decided from every segment's scores: scenes.shot_starts); chosen
    are the frames that may start a shot (scenes.may_cut) and its first frame, whose score
    the segment before gives: it scores the first frame after its own end too."""
    clock, before = segment.clock, segment.before
    start, own_end = _segment_window(segment, options)
    window_start = before is None or clock.seconds(before) < options.start_fraction
    scores = Scores()
    first = True
    for when, frame in window_frames(reader, clock, start, options.end_fraction):
        score = scores.next(frame)
        if own_end is not None and when >= own_end:
            log.after.append((str(when), score))
            return
        log.own.append((str(when), score if window_start or not first else None))
        if first or may_cut(options, score):
            yield when, frame
        first = False


def _segment_window(segment: Segment, options: ExtractOptions) -> tuple[Fraction, Fraction | None]:
    """The options' window within the segment's range, in seconds."""
    clock, first = segment.clock, segment.stream.first_pts
    start, end = options.start_fraction, options.end_fraction
    if first is not None and segment.before is not None:
        start = max(start, clock.seconds(first))
    if segment.end_pts is not None:
        limit = clock.seconds(segment.end_pts)
        end = limit if end is None else min(end, limit)
    return start, end
