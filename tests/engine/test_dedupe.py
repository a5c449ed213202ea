"""Near-duplicate dropping: a still followed by different shots."""

import pytest

from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.manifest import build_manifest
from frameforge_pipeline.engine.options import DEFAULT_DEDUPE_DISTANCE, ExtractOptions
from tests.engine.clips import write_still_then_shots


@pytest.fixture(scope="module")
def still_then_shots(tmp_path_factory):
    path = tmp_path_factory.mktemp("dedupe") / "still.mp4"
    write_still_then_shots(path, still_seconds=5, shots=5)
    return path


def test_a_five_second_still_then_five_shots_gives_six_frames(still_then_shots, collector):
    result = extract(still_then_shots, ExtractOptions(dedupe=True), collector)
    assert [r.timestamp_ms for r in result.frames] == [0, 5000, 6000, 7000, 8000, 9000]
    assert [r.index for r in result.frames] == list(range(6))  # numbered as kept
    assert collector.times_ms == [0, 5000, 6000, 7000, 8000, 9000]  # the sink got only those
    assert result.dropped_duplicates == 4
    manifest = build_manifest(result)
    assert manifest["extraction"]["dropped_duplicates"] == 4
    assert manifest["settings"]["dedupe"] == {
        "hash": "64-bit DCT pHash",
        "max_distance": DEFAULT_DEDUPE_DISTANCE,
        "dropped": 4,
    }


def test_without_dedupe_every_sampled_frame_is_kept(still_then_shots, collector):
    result = extract(still_then_shots, ExtractOptions(), collector)
    assert len(result.frames) == 10
    assert result.dropped_duplicates == 0
    assert build_manifest(result)["settings"]["dedupe"] is None


def test_different_pictures_are_all_kept(make_clip, collector):
    clip = make_clip("cfr.mp4", seconds=5)  # every frame shows another barcode
    result = extract(clip.path, ExtractOptions(dedupe=DEFAULT_DEDUPE_DISTANCE), collector)
    assert collector.source_indices == [0, 30, 60, 90, 120]
    assert result.dropped_duplicates == 0


def test_the_distance_is_compared_with_the_last_kept_frame(still_then_shots, collector):
    """At 64 every hash is within reach of the first: only the first frame stays."""
    result = extract(still_then_shots, ExtractOptions(dedupe=64), collector)
    assert [r.timestamp_ms for r in result.frames] == [0]
    assert result.dropped_duplicates == 9


@pytest.mark.parametrize(
    ("given", "distance"),
    [(True, DEFAULT_DEDUPE_DISTANCE), (False, None), (None, None), (0, 0), (12, 12)],
)
def test_dedupe_true_means_the_default_distance(given, distance):
    assert ExtractOptions.model_validate({"dedupe": given}).dedupe == distance


@pytest.mark.parametrize("bad", [-1, 65, 2.5, "near"])
def test_a_distance_outside_0_to_64_is_refused(bad):
    with pytest.raises(ValueError, match="dedupe"):
        ExtractOptions.model_validate({"dedupe": bad})
