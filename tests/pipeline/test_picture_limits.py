"""A picture over the limits fails its job with the reason, at source_video, not retried."""

from fractions import Fraction

from tests.pipeline.test_extract_video_job import failure_message


def test_an_over_limit_picture_is_rejected_with_its_size(make_clip, run_video, storage):
    clip = make_clip("wide-8200.mp4", size=(8200, 64), seconds=1, fps=1)
    result = run_video("giant", clip.path)
    assert not result.success
    assert failure_message(result) == (
        "video rejected: the picture is 8200x64 pixels, larger than the limit of 8192 pixels a side"
    )
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "source_video"
    assert storage.list_keys("frames/giant/") == storage.list_keys("results/giant/") == []


def test_an_absurd_sample_aspect_ratio_extracts_at_the_coded_size(make_clip, run_video, storage):
    clip = make_clip("sar-240.mkv", sample_aspect_ratio=Fraction(240), seconds=2)
    result = run_video("stretched", clip.path, format="png")
    assert result.success
    facts = result.output_for_node("source_video")
    assert (facts.width, facts.height, facts.ignored_sample_aspect_ratio) == (320, 240, 240)
    assert len(storage.list_keys("frames/stretched/")) == 2
