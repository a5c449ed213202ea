"""Timestamps in file names."""

from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.engine.extractor import extract, frame_name
from frameforge_pipeline.engine.options import ExtractOptions


def test_the_time_goes_after_the_index():
    assert frame_name(12, ".jpg", 12_000) == "frame_000012_00-00-12.000.jpg"
    assert frame_name(3, ".png", 3_723_456.789) == "frame_000003_01-02-03.457.png"
    assert frame_name(12, ".jpg") == "frame_000012.jpg"


@given(st.lists(st.floats(0, 3.6e8, allow_nan=False), min_size=1, max_size=30, unique=True))
def test_names_sort_in_time_order_and_give_the_time_back(times):
    times = sorted(times)
    names = [frame_name(i, ".jpg", t) for i, t in enumerate(times)]
    assert sorted(names) == names
    for name, t in zip(names, times, strict=True):
        hours, minutes, seconds = name.removesuffix(".jpg").split("_")[2].split("-")
        back = (int(hours) * 60 + int(minutes)) * 60_000 + float(seconds) * 1000
        assert abs(back - t) <= 0.5 + 1e-6
        assert not {":", "/"} & set(name)


def test_the_option_names_extracted_files(make_clip, collector):
    clip = make_clip("cfr.mp4", seconds=5)
    result = extract(clip.path, ExtractOptions(fps=2, timestamp_names=True), collector)
    assert [r.file for r in result.frames][:3] == [
        "frame_000000_00-00-00.000.jpg",
        "frame_000001_00-00-00.500.jpg",
        "frame_000002_00-00-01.000.jpg",
    ]
