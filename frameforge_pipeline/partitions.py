import dagster as dg

VIDEOS = "videos"
videos = dg.DynamicPartitionsDefinition(name=VIDEOS)
"""One partition per rendition: a video extracted with one set of options. The key is
``<video id>.<digest of the options>`` (``frameforge_core.renditions``), or the bare video
id for jobs made before renditions; ``frameforge_core.layout.video_id_of`` reads the video
back. One definition, so lineage, reruns and backfills work per rendition."""
