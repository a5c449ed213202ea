"""The storyboard asset: downstream of frames, listed by the manifest, inside the ZIP."""

import json

import dagster as dg

from frameforge_core import layout
from frameforge_pipeline.engine.archive import zip_problems


def test_a_storyboard_is_made_stored_next_to_the_zip_and_zipped(make_clip, run_video, storage):
    clip = make_clip("cfr10.mp4", seconds=10)
    result = run_video("vid-sb", clip.path, storyboard=True, storyboard_columns=4)
    assert result.success
    assert storage.list_keys(layout.storyboard_prefix("vid-sb")) == [
        "results/vid-sb/storyboard/sheet_000.jpg",
        "results/vid-sb/storyboard/storyboard.vtt",
    ]
    with storage.open_read(layout.manifest_key("vid-sb")) as stream:
        manifest = json.load(stream)
    assert manifest["storyboard"]["tiles"] == 10
    assert manifest["storyboard"]["columns"] == 4
    with storage.open_read(layout.zip_key("vid-sb")) as stream:
        assert zip_problems(stream) == []
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("storyboard")
    ]
    metadata = event.materialization.metadata
    assert (metadata["made"].value, metadata["tiles"].value, metadata["sheets"].value) == (
        True, 10, 1
    )  # fmt: skip


def test_without_the_option_the_asset_is_made_empty(make_clip, run_video, storage):
    result = run_video("vid-nosb", make_clip("cfr.mp4", seconds=5).path)
    assert result.success
    assert storage.list_keys(layout.storyboard_prefix("vid-nosb")) == []
    with storage.open_read(layout.manifest_key("vid-nosb")) as stream:
        assert json.load(stream)["storyboard"] is None


def test_storyboard_is_downstream_of_frames_and_upstream_of_the_manifest(defs):
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("storyboard"))
    assert node.parent_keys == {dg.AssetKey("frames")}
    assert dg.AssetKey("storyboard") in graph.get(dg.AssetKey("manifest")).parent_keys


def test_every_option_is_run_config(make_clip, run_video):
    """The new options pass through Dagster's config as they do through the CLI and API."""
    result = run_video(
        "vid-opts",
        make_clip("cfr.mp4", seconds=5).path,
        mode="scene",
        scene_threshold=40.0,
        dedupe=4,
        tonemap="none",
        timestamp_names=True,
    )
    assert result.success
    frames = result.output_for_node("frames")
    assert frames.options.dedupe == 4
    assert frames.frames[0].file == "frame_000000_00-00-00.000.jpg"
