"""Giant pictures: absurd sample aspect ratios are ignored, over-limit pictures are refused
at probe time with their size and the limit, and big pictures get fewer frames in flight."""

import importlib
from fractions import Fraction

import pytest

from frameforge_pipeline.engine.errors import PictureTooLargeError
from frameforge_pipeline.engine.extractor import Concurrency, extract
from frameforge_pipeline.engine.limits import Limits, PictureLimits
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import VideoFacts, probe
from frameforge_pipeline.engine.render import RenderPlan

probe_module = importlib.import_module("frameforge_pipeline.engine.probe")  # not the function
SIDE_LIMIT = "larger than the limit of 8192 pixels a side"


def test_an_absurd_sample_aspect_ratio_is_ignored_and_recorded(make_clip, collector):
    # 320x240 declaring 240:1 pixels: 76,800x240 on display, beyond what JPEG can even hold
    clip = make_clip("sar-240.mkv", sample_aspect_ratio=Fraction(240), seconds=2)
    facts = probe(clip.path)
    assert (facts.width, facts.height) == (320, 240)
    assert facts.sample_aspect_ratio == 1
    assert facts.ignored_sample_aspect_ratio == 240
    assert facts.to_json()["ignored_sample_aspect_ratio"] == "240"

    result = extract(clip.path, ExtractOptions(), collector)
    assert collector.source_indices == [0, 30]
    assert {(r.width, r.height) for r in result.frames} == {(320, 240)}
    assert {image.shape for image in collector.images} == {(240, 320, 3)}


@pytest.mark.parametrize(
    ("sar", "width", "ignored"),
    [(Fraction(2), 640, None), (Fraction(1, 2), 160, None), (Fraction(1, 240), 320, "1/240")],
)
def test_plausible_sample_aspect_ratios_still_stretch(make_clip, sar, width, ignored):
    clip = make_clip(f"sar-{sar.numerator}-{sar.denominator}.mp4", sample_aspect_ratio=sar)
    facts = probe(clip.path)
    assert (facts.width, facts.height) == (width, 240)
    assert facts.to_json()["ignored_sample_aspect_ratio"] == ignored


def test_wider_than_the_limit_is_refused_with_its_size(make_clip):
    clip = make_clip("wide-8200.mp4", size=(8200, 64), seconds=1, fps=1)
    with pytest.raises(PictureTooLargeError) as refused:
        probe(clip.path)
    assert str(refused.value) == f"the picture is 8200x64 pixels, {SIDE_LIMIT}"
    with pytest.raises(PictureTooLargeError):
        extract(clip.path, ExtractOptions(), collector_that_fails())


def test_more_pixels_than_the_limit_is_refused(make_clip):
    clip = make_clip("square-6000.mp4", size=(6000, 6000), seconds=1, fps=Fraction(1))
    with pytest.raises(PictureTooLargeError) as refused:
        probe(clip.path)
    assert str(refused.value) == (
        "the picture is 6000x6000 pixels (36.0 megapixels), more than the limit of 35.4 megapixels"
    )


def test_the_declared_size_is_refused_before_anything_is_decoded(make_clip, monkeypatch):
    def no_decoding(*args: object) -> None:
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(probe_module, "_first_frame", no_decoding)
    clip = make_clip("cfr.mp4", seconds=5)
    with pytest.raises(PictureTooLargeError, match="320x240 pixels, larger than the limit of 300"):
        probe(clip.path, Limits(PictureLimits(max_side=300)))


def test_a_stretched_picture_is_checked_at_its_display_size(make_clip):
    clip = make_clip("sar-2-1.mp4", sample_aspect_ratio=Fraction(2))  # 640x240 shown
    with pytest.raises(PictureTooLargeError, match="the picture is 640x240 pixels"):
        probe(clip.path, Limits(PictureLimits(max_side=600)))
    probe(clip.path, Limits(PictureLimits(max_side=640)))


def test_the_limits_come_from_the_settings_where_the_process_starts(make_clip, monkeypatch):
    """The code location builds them from the environment; the engine reads none itself."""
    from frameforge_pipeline.resources import resources_for_environment

    clip = make_clip("cfr.mp4", seconds=5)
    monkeypatch.setenv("FRAMEFORGE_MAX_PICTURE_PIXELS", "50000")
    limits = resources_for_environment()["limits"].engine_limits()
    assert limits.picture == PictureLimits(max_pixels=50_000)
    with pytest.raises(PictureTooLargeError, match=r"\(0.1 megapixels\), more than the limit of"):
        probe(clip.path, limits)
    assert probe(clip.path).width == 320  # the engine's defaults: the environment is not read
    monkeypatch.setenv("FRAMEFORGE_MAX_PICTURE_SIDE", "320")
    monkeypatch.setenv("FRAMEFORGE_MAX_PICTURE_PIXELS", str(320 * 240))
    assert probe(clip.path, resources_for_environment()["limits"].engine_limits()).width == 320


def test_a_size_change_mid_stream_is_checked_frame_by_frame(make_clip, tmp_path, collector):
    # MPEG-TS files joined: the second carries a new sequence header with a bigger picture
    small = make_clip("join-small.ts", size=(320, 240), seconds=2)
    big = make_clip("join-big.ts", size=(640, 480), seconds=2)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(small.path.read_bytes() + big.path.read_bytes())
    limits = Limits(PictureLimits(max_side=400))
    assert probe(joined, limits).width == 320
    with pytest.raises(PictureTooLargeError, match=r"^frame \d+ is 640x480 pixels"):
        extract(joined, ExtractOptions(), collector, limits=limits)
    assert len(extract(joined, ExtractOptions(), collector).frames) == 4  # default limits


def facts(width: int, height: int, pixel_format: str = "yuv420p") -> VideoFacts:
    return VideoFacts(
        container="matroska,webm", codec="hevc", width=width, height=height,
        coded_width=width, coded_height=height, rotation=0, sample_aspect_ratio=Fraction(1),
        fps=Fraction(30), duration=Fraction(10), frame_count=None, pixel_format=pixel_format,
        has_audio=False, size_bytes=1,
    )  # fmt: skip


def test_big_pictures_get_fewer_frames_in_flight_and_decoder_threads():
    options = ExtractOptions()
    hd = facts(1920, 1080)
    assert Concurrency.for_video(hd, RenderPlan.for_video(hd, options), 4) == Concurrency(4, 8, 0)
    uhd8k = facts(7680, 4320)
    big = Concurrency.for_video(uhd8k, RenderPlan.for_video(uhd8k, options), 4)
    assert big == Concurrency(workers=2, in_flight=2, decoder_threads=5)
    deep = facts(8192, 4320, "yuv444p16le")  # 6 bytes a pixel decoded
    assert Concurrency.for_video(deep, RenderPlan.for_video(deep, options), 4) == Concurrency(
        workers=1, in_flight=1, decoder_threads=1
    )
    small = ExtractOptions(max_width=640)  # shrunk before conversion: only decoding is big
    assert Concurrency.for_video(uhd8k, RenderPlan.for_video(uhd8k, small), 4).in_flight == 8


def test_a_picture_larger_than_its_format_allows_is_refused_not_crashed():
    wide = facts(20_000, 100)
    with pytest.raises(PictureTooLargeError, match="larger than webp allows"):
        RenderPlan.for_video(wide, ExtractOptions(format="webp"))
    RenderPlan.for_video(wide, ExtractOptions(format="webp", max_width=16_000))
    RenderPlan.for_video(wide, ExtractOptions(format="jpg"))


class _NoFrames:
    def write(self, record: object, data: bytes) -> None:
        raise AssertionError("no frame may come out of a refused video")


def collector_that_fails() -> _NoFrames:
    return _NoFrames()
