"""Assembles the code location; each part lives in a module of its own."""

import dagster as dg

from frameforge_pipeline.assets import checks, extraction, frame_index
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.resources import resources_for_environment

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([extraction, frame_index]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[extract_video],
    resources=resources_for_environment(),
    executor=dg.in_process_executor,
)
