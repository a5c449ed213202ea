import dagster as dg

from frameforge_pipeline.loggers import RUN_LOGGERS

extract_video = dg.define_asset_job(
    "extract_video",
    selection=dg.AssetSelection.groups("extraction"),
    description="Everything for one video partition: probe, frames, manifest, ZIP, frame index.",
    config=RUN_LOGGERS,
)
