"""Extraction against clips whose frame times and contents are known."""

import os
from fractions import Fraction

import cv2
import numpy as np
import pytest

from frameforge_pipeline.engine.errors import CorruptVideoError, NotAVideoError
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.reader import FrameReader
from frameforge_pipeline.engine.sampling import IntervalSampler
from tests.sample_clips import times_from_gaps


def expected_indices(times, fps=Fraction(1), start=Fraction(0), end=None):
    """The sampling rule written plainly: first frame at or after each target, once each."""
    sampler = IntervalSampler(fps, start, end)
    return [i for i, t in enumerate(times) if sampler.offer(t)]


def test_one_frame_per_second_at_the_true_times(make_clip, collector):
    clip = make_clip("cfr.mp4", seconds=5)
    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.times_ms == [0, 1000, 2000, 3000, 4000]
    assert collector.source_indices == [0, 30, 60, 90, 120]
    assert result.work.expected_frames == 5
    assert [r.file for r in result.frames] == [f"frame_{i:06d}.jpg" for i in range(5)]


@pytest.mark.parametrize(
    ("last_frame_time", "count"), [(Fraction(397, 100), 4), (Fraction(524, 100), 6)]
)
def test_a_target_after_the_last_frame_has_no_frame(make_clip, collector, last_frame_time, count):
    times = [Fraction(i, 25) for i in range(int(last_frame_time * 25))] + [last_frame_time]
    clip = make_clip(f"last-{float(last_frame_time)}.mp4", times=times)
    result = extract(clip.path, ExtractOptions(), collector)
    assert len(result.frames) == result.work.expected_frames == count


@pytest.mark.parametrize(
    ("name", "codec"),
    [("h264.mp4", "libx264"), ("vp9.webm", "libvpx-vp9"), ("hevc.mkv", "libx265"),
     ("mjpeg.avi", "mjpeg"), ("h264.mov", "libx264")],
)  # fmt: skip
def test_every_container_gives_the_same_frames(make_clip, collector, name, codec):
    clip = make_clip(name, codec=codec, seconds=2)
    extract(clip.path, ExtractOptions(fps=2), collector)
    assert collector.source_indices == [0, 15, 30, 45]
    assert collector.times_ms == [0, 500, 1000, 1500]


def test_ntsc_rate_samples_the_first_frame_at_or_after_each_second(make_clip, collector):
    clip = make_clip("ntsc.mp4", fps=Fraction(30000, 1001), seconds=4)
    extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == expected_indices(clip.times) == [0, 30, 60, 90]
    assert collector.times_ms == [0, 1001, 2002, 3003]


def test_variable_frame_rate_uses_real_timestamps(make_clip, collector):
    rng = np.random.default_rng(3)
    gaps = rng.integers(5, 120, size=150)  # 5-120 ms between frames
    times = times_from_gaps(gaps)
    clip = make_clip("vfr.mp4", times=times)
    result = extract(clip.path, ExtractOptions(fps=2), collector)
    chosen = expected_indices(times, fps=Fraction(2))
    assert collector.source_indices == chosen
    assert collector.times_ms == [float(times[i] * 1000) for i in chosen]
    assert result.work.corrupt_frames == 0


def test_a_gap_longer_than_the_interval_gives_each_frame_once(make_clip, collector):
    times = [Fraction(i, 10) for i in range(10)] + [
        Fraction(3) + Fraction(i, 10) for i in range(10)
    ]
    clip = make_clip("gap.mp4", times=times)
    extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == [0, 10]  # targets 1, 2 and 3 s all choose the frame at 3 s
    assert collector.times_ms == [0, 3000]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_phone_video_comes_out_upright(make_clip, collector, rotation):
    clip = make_clip(f"rot{rotation}.mp4", size=(240, 320), rotation=rotation)
    extract(clip.path, ExtractOptions(), collector)
    assert [image.shape[:2] for image in collector.images] == [(320, 240)] * 2
    assert collector.source_indices == [0, 30]  # the barcode reads only when upright


def test_sub_second_clip_gives_its_first_frame(make_clip, collector):
    clip = make_clip("short.mp4", seconds=0.4)
    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == [0]
    assert result.work.expected_frames == 1


def test_elementary_stream_without_timestamps_uses_its_nominal_rate(make_clip, collector):
    clip = make_clip("raw25.h264", seconds=3, fps=Fraction(25))
    extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == [0, 25, 50]
    assert collector.times_ms == [0, 1000, 2000]


def test_timeline_that_jumps_back_is_joined_on(make_clip, tmp_path, collector):
    first = make_clip("part-a.ts", seconds=2).path.read_bytes()
    second = make_clip("part-b.ts", seconds=2, size=(320, 240)).path.read_bytes()
    joined = tmp_path / "joined.ts"  # both parts start at the same timestamp
    joined.write_bytes(first + second)
    result = extract(joined, ExtractOptions(), collector)
    assert collector.times_ms == [0, 1000, 2000, 3000]
    assert collector.source_indices == [0, 30, 0, 30]  # the second part's frames 0 and 30
    assert result.work.seeks == 0


def test_window_start_and_end(make_clip, collector):
    clip = make_clip("long-gop.mp4", seconds=12, gop=250)
    extract(clip.path, ExtractOptions(start=2.5, end=6), collector)
    assert collector.times_ms == [2500, 3500, 4500, 5500]
    assert collector.source_indices == [75, 105, 135, 165]


def test_keyframes_mode_returns_each_keyframe(make_clip, collector):
    clip = make_clip("gop45.mp4", seconds=6, gop=45)
    result = extract(clip.path, ExtractOptions(mode="keyframes"), collector)
    assert collector.source_indices == [0, 45, 90, 135]
    assert result.work.decoded_frames == 4


def test_short_gop_seeks_instead_of_decoding_everything(make_clip, collector):
    clip = make_clip("gop30.mp4", seconds=10, gop=30)
    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == list(range(0, 300, 30))
    assert result.work.seeks == 9
    assert result.work.decoded_frames < 30


def test_long_gop_decodes_straight_through(make_clip, collector):
    clip = make_clip("long-gop.mp4", seconds=12, gop=250)
    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == list(range(0, 360, 30))
    assert result.work.seeks <= 1  # only to jump over part of the first GOP


def test_a_container_index_that_lies_costs_time_not_correctness(make_clip, collector, monkeypatch):
    clip = make_clip("gop30.mp4", seconds=10, gop=30)
    real_seek = FrameReader.seek

    def seek_too_far(self, keyframe_pts):
        real_seek(self, keyframe_pts)
        self.container.seek(keyframe_pts + 45 * 3000, stream=self.stream, backward=False)

    monkeypatch.setattr(FrameReader, "seek", seek_too_far)
    monkeypatch.setattr(FrameReader, "economical", False)  # count every frame
    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == list(range(0, 300, 30))
    assert result.work.seeks == 1  # the first seek showed the index wrong; the rest decoded through
    assert result.work.decoded_frames >= 271


def test_scaling_keeps_aspect_and_never_enlarges(make_clip, collector):
    clip = make_clip("cfr.mp4", seconds=5)
    result = extract(clip.path, ExtractOptions(max_width=160, format="png"), collector)
    assert {(r.width, r.height) for r in result.frames} == {(160, 120)}
    assert collector.images[0].shape[:2] == (120, 160)
    assert collector.source_indices == [0, 30, 60, 90, 120]

    bigger = extract(clip.path, ExtractOptions(max_width=4000, max_height=4000), collector)
    assert {(r.width, r.height) for r in bigger.frames} == {(320, 240)}


@pytest.mark.parametrize(("image_format", "magic"), [
    ("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG"), ("webp", b"RIFF"),
])  # fmt: skip
def test_image_formats(make_clip, image_format, magic):
    clip = make_clip("cfr.mp4", seconds=5)
    seen: list[bytes] = []

    class Sink:
        def write(self, record, data):
            seen.append(data)
            assert record.file.endswith("." + image_format)

    extract(clip.path, ExtractOptions(format=image_format), Sink())
    assert all(data.startswith(magic) for data in seen)


def test_a_corrupt_frame_is_skipped_and_counted(make_clip, tmp_path, collector):
    clip = make_clip("mjpeg-5s.avi", codec="mjpeg", seconds=5)
    data = bytearray(clip.path.read_bytes())
    movi = data.index(b"movi")
    chunks = [i for i in range(movi, len(data)) if data[i : i + 4] == b"00dc"]
    frame_30 = chunks[30]  # AVI chunks are in frame order, the index (idx1) comes after
    size = int.from_bytes(data[frame_30 + 4 : frame_30 + 8], "little")
    data[frame_30 + 8 : frame_30 + 8 + size] = os.urandom(size)
    damaged = tmp_path / "damaged.avi"
    damaged.write_bytes(bytes(data))

    result = extract(damaged, ExtractOptions(), collector)
    assert collector.source_indices == [0, 31, 60, 90, 120]  # frame 30 replaced by the next
    assert result.work.corrupt_frames == 1


def test_rejected_inputs_raise_before_the_sink_sees_anything(tmp_path, collector):
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(NotAVideoError):
        extract(junk, ExtractOptions(), collector)
    assert collector.records == []


def test_damaged_container_is_rejected(make_clip, tmp_path, collector):
    whole = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: -len(whole) // 3])
    with pytest.raises(CorruptVideoError):
        extract(cut, ExtractOptions(), collector)


def test_records_describe_the_bytes_written(make_clip):
    import hashlib

    clip = make_clip("cfr.mp4", seconds=5)
    written = {}

    class Sink:
        def write(self, record, data):
            written[record.file] = data

    result = extract(clip.path, ExtractOptions(format="webp", quality=50), Sink())
    for record in result.frames:
        data = written[record.file]
        assert record.bytes == len(data)
        assert record.sha256 == hashlib.sha256(data).hexdigest()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == (record.height, record.width)


def test_a_cut_off_file_is_extracted_and_flagged_truncated(make_clip, tmp_path, collector):
    whole = make_clip("to-cut.mkv", seconds=5).path.read_bytes()
    cut = tmp_path / "cut.mkv"  # Matroska keeps its header (and declared duration) up front
    cut.write_bytes(whole[: len(whole) * 6 // 10])
    result = extract(cut, ExtractOptions(), collector)
    assert result.work.truncated
    assert 1 <= len(result.frames) < 5
    assert not extract(
        make_clip("to-cut.mkv", seconds=5).path, ExtractOptions(), collector
    ).work.truncated


def test_a_timeline_restarting_lower_is_joined_from_its_first_part(tmp_path, collector):
    from frameforge_pipeline.samples import write_clip

    late = [10 + Fraction(i, 30) for i in range(60)]  # starts at 10 s
    write_clip(tmp_path / "a.ts", times=late)
    write_clip(tmp_path / "b.ts", seconds=2)  # starts at 0 s
    joined = tmp_path / "joined.ts"
    joined.write_bytes((tmp_path / "a.ts").read_bytes() + (tmp_path / "b.ts").read_bytes())
    extract(joined, ExtractOptions(), collector)
    assert collector.times_ms == [0, 1000, 2000, 3000]
    assert collector.source_indices == [0, 30, 0, 30]


def test_no_frame_at_or_after_end(make_clip, collector):
    clip = make_clip("one-per-second.mp4", times=[Fraction(0), Fraction(1), Fraction(2)])
    extract(clip.path, ExtractOptions(start=0.5, end=0.9), collector)
    assert collector.records == []  # the frame for the 0.5 s target is at 1 s, past the end


def test_a_stream_starting_mid_gop_counts_time_from_its_first_decodable_frame(
    make_clip, tmp_path, collector
):
    import av

    clip = make_clip("gop60.ts", seconds=6, gop=60)
    mid_gop = tmp_path / "mid-gop.ts"  # the first 20 packets (of GOP 0) are lost
    with av.open(str(clip.path)) as source, av.open(str(mid_gop), "w") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for n, packet in enumerate(source.demux(source.streams.video[0])):
            if n >= 20 and packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    result = extract(mid_gop, ExtractOptions(), collector)
    assert collector.source_indices == [60, 90, 120, 150]  # GOP 1 is the first that decodes
    assert collector.times_ms == [0, 1000, 2000, 3000]
    assert result.work.expected_frames == 4


def _pal_transport_stream(path, frames=75):
    """MPEG-2 PAL (720x576, 25 fps, interlaced, B-frames) in MPEG-TS, as broadcast carries it."""
    import av

    from frameforge_pipeline.samples import draw

    with av.open(str(path), "w") as container:
        options = {"g": "12", "bf": "2", "flags": "+ilme+ildct", "top": "1", "b": "6M"}
        stream = container.add_stream("mpeg2video", rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = 720, 576, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 25)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(index, 720, 576), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def test_a_damaged_broadcast_fragment_starts_at_its_first_frame(tmp_path, collector):
    """A PAL transport stream cut mid-stream (mid TS packet, inside a GOP) that lost two TS
    packets of its first whole picture: that picture decodes damaged and is skipped, and the
    times count from the first frame extracted, not from the damaged one before it."""
    import av

    whole = tmp_path / "pal.ts"
    _pal_transport_stream(whole)
    with av.open(str(whole)) as container:
        keyframes = [p for p in container.demux(container.streams.video[0]) if p.is_keyframe]
        position, size = keyframes[2].pos, keyframes[2].size  # frame 24's picture
    data = whole.read_bytes()
    start = position - position % 188 - 5 * 188 + 100  # mid packet, in the GOP before
    hole = position + size // 2 - (position + size // 2) % 188
    fragment = tmp_path / "fragment.ts"
    fragment.write_bytes(data[start:hole] + data[hole + 2 * 188 :])

    result = extract(fragment, ExtractOptions(fps=25), collector)
    assert result.work.corrupt_frames == 1  # frame 24, damaged
    assert collector.times_ms[:3] == [0, 40, 80]
    assert collector.source_indices == list(range(25, 75))
    assert len(result.frames) == result.work.expected_frames == 50
