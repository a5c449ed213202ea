"""What leaves the store and the Dagster instance when a video's results expire or the video
is deleted: one definition for the API (which deletes at once) and the sensors (which
expire, and finish deletions the API could not).

- **Expired** (retention): the upload, the frames, the ZIP and the manifest of every
  rendition go; the frame index rows and the app database rows stay, and the API answers the
  download with 410. The partitions leave Dagster's dynamic partitions (their runs stay, as
  history), so the instance holds only partitions whose results exist and their number
  stays bounded (Dagster recommends at most 100,000 per asset).
- **Deleted** (a user deletes the video or their account): everything under the video's
  keys, its frame index rows, its partitions, and its runs with their event logs (they hold
  its file name and metadata: personal data goes with the video).
"""

from __future__ import annotations

import dagster as dg

from frameforge_core import layout
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import FrameStore

PARTITION_TAG = "dagster/partition"


def expire_objects(storage: FrameStore, video_id: str, partition_keys: list[str]) -> None:
    """Delete the upload, frames, manifests and ZIPs of a video; its index rows stay."""
    storage.delete_prefix(layout.upload_prefix(video_id))
    storage.delete_prefix(layout.source_prefix(video_id))
    for key in partition_keys:
        storage.delete_prefix(layout.frames_prefix(key))
        storage.delete_prefix(layout.key_folder(layout.zip_key(key)))  # and the manifest


def delete_objects(storage: FrameStore, video_id: str, partition_keys: list[str]) -> None:
    """Delete everything a video left in the store, its frame index rows included."""
    from frameforge_pipeline.frame_index_store import drop_partitions  # pyarrow, DuckDB: here

    drop_partitions(storage, partition_keys)
    expire_objects(storage, video_id, partition_keys)


def runs_going(instance: dg.DagsterInstance, partition_keys: list[str]) -> bool:
    """Whether a run of one of the partitions has not ended (it may still write)."""
    return any(
        instance.get_runs(
            filters=dg.RunsFilter(
                tags={PARTITION_TAG: key},
                statuses=[s for s in dg.DagsterRunStatus if s not in _ENDED],
            ),
            limit=1,
        )
        for key in partition_keys
    )


_ENDED = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)


def remove_partitions(instance: dg.DagsterInstance, partition_keys: list[str]) -> None:
    """Take the partitions out of Dagster's dynamic partitions (a missing one is fine)."""
    for key in partition_keys:
        if instance.has_dynamic_partition(VIDEOS, key):
            instance.delete_dynamic_partition(VIDEOS, key)


def delete_runs(instance: dg.DagsterInstance, partition_keys: list[str]) -> int:
    """Delete every run of the partitions, with its event log; returns how many."""
    deleted = 0
    for key in partition_keys:
        for run in instance.get_runs(filters=dg.RunsFilter(tags={PARTITION_TAG: key})):
            instance.delete_run(run.run_id)
            deleted += 1
    return deleted


def purge(
    instance: dg.DagsterInstance, storage: FrameStore, video_id: str, partition_keys: list[str]
) -> bool:
    """Remove a deleted video from the store and the instance. False, with nothing done,
    while one of its runs is going (a cancelled run may still be writing): try again later.
    Running it again is harmless."""
    if runs_going(instance, partition_keys):
        return False
    delete_objects(storage, video_id, partition_keys)
    delete_runs(instance, partition_keys)
    remove_partitions(instance, partition_keys)
    return True
