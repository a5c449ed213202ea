"""Per video partition: frames -> storyboard (sprite sheets + WebVTT) -> manifest, ZIP."""

import dagster as dg

from frameforge_core import layout
from frameforge_pipeline.assets.extraction import GROUP
from frameforge_pipeline.engine.records import ExtractionResult
from frameforge_pipeline.engine.storyboard import Storyboard, StoryboardBuilder, end_ms
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.resources import FrameStore


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"image"})
def storyboard(
    context: dg.AssetExecutionContext, frames: ExtractionResult, storage: FrameStore
) -> Storyboard | None:
    """Sprite sheets of the frames and a WebVTT file of their time ranges, for timeline
    previews, when the options ask for it (``storyboard: true``); otherwise nothing."""
    partition = context.partition_key
    prefix = layout.storyboard_prefix(partition)
    storage.delete_prefix(prefix)  # a rerun, or a rerun without a storyboard, starts clean
    if not frames.options.storyboard:
        context.add_output_metadata({"made": False})
        return None

    def save(name: str, data: bytes) -> None:
        with storage.open_write(layout.storyboard_key(partition, name)) as stream:
            stream.write(data)

    builder = StoryboardBuilder(frames.options, save)
    source = layout.frames_prefix(partition)
    try:
        for record in frames.frames:
            with storage.open_read(source + record.file) as image:
                builder.write(record, image.read())
        board = builder.finish(end_ms(frames))
    except BaseException:
        storage.delete_prefix(prefix)  # no half storyboard survives a failure
        raise
    context.add_output_metadata(
        {
            "made": True,
            "tiles": board.tiles,
            "sheets": len(board.files) - 1,
            "tile_size": f"{board.tile_width}x{board.tile_height}",
            "location": storage.uri(prefix),
        }
    )
    return board
