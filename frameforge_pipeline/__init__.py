"""FrameForge's processing side: the extraction engine and the Dagster asset graph."""
