import dagster as dg

from frameforge_pipeline.partitions import videos

extract_video = dg.define_asset_job(
    "extract_video",
    selection=dg.AssetSelection.groups("extraction"),
    partitions_def=videos,
    description="Everything for one video partition: probe, frames, manifest, ZIP, frame index.",
)
