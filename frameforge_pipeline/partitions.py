import dagster as dg

videos = dg.DynamicPartitionsDefinition(name="videos")
"""One partition per uploaded video; the key is the video id."""
