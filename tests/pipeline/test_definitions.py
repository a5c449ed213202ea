import logging
import subprocess
import sys
from pathlib import Path

import dagster as dg

from frameforge_pipeline.definitions import defs
from frameforge_pipeline.resources import resources_for_environment

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    per_video = {"source_video", "frames", "storyboard", "manifest", "frames_zip", "frame_index"}
    assert keys == per_video | {"frame_index_daily"}  # compacted by day
    assert all(graph.get(dg.AssetKey(key)).partitions_def.name == "videos" for key in per_video)
    # in process unless the run config (the job sensor's, by duration) asks for more
    assert defs.resolve_job_def("extract_video").executor_def.name == "frameforge"


def test_every_asset_has_a_code_version():
    graph = defs.resolve_asset_graph()
    assert all(graph.get(key).code_version for key in graph.get_all_asset_keys())


def test_workspace_yaml_loads_with_the_dagster_cli(tmp_path):
    done = subprocess.run(
        [DAGSTER, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DAGSTER_HOME": str(tmp_path), "FRAMEFORGE_HOME": str(tmp_path / "ff")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_the_code_location_says_which_former_setting_names_it_was_started_with(
    monkeypatch, tmp_path, caplog
):
    """Every Dagster process serving or running the code location reads its settings here."""
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://s3.example")
    with caplog.at_level(logging.WARNING, logger="frameforge.settings"):
        resources_for_environment()
    [warning] = [r for r in caplog.records if r.name == "frameforge.settings"]
    assert "S3_ENDPOINT_URL (now FRAMEFORGE_S3_ENDPOINT_URL)" in warning.getMessage()
