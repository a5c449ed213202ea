import dagster as dg

VIDEOS = "videos"
videos = dg.DynamicPartitionsDefinition(name=VIDEOS)
"""One partition per uploaded video; the key is the video id."""
