"""Per video partition: source_video -> frames (assets/frames.py) -> manifest -> frames_zip."""

import hashlib
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, ValidationError, create_model

from frameforge_core import layout, storage_use
from frameforge_pipeline import segmenting
from frameforge_pipeline.engine.archive import FrameZip
from frameforge_pipeline.engine.errors import VideoError, rejection
from frameforge_pipeline.engine.manifest import (
    MANIFEST_NAME,
    Manifest,
    build_manifest,
    manifest_bytes,
)
from frameforge_pipeline.engine.options import ExtractOptions, constraint_text, validation_message
from frameforge_pipeline.engine.probe import VideoFacts, probe
from frameforge_pipeline.engine.records import ExtractionResult
from frameforge_pipeline.engine.storyboard import Storyboard
from frameforge_pipeline.engine.storyboard_names import STORYBOARD_DIR, storyboard_files
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.partition_jobs import PartitionJob, partition_job
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.resources import AppDatabase, ExtractionLimits, FrameStore

GROUP = "extraction"


class _OptionsConfig(dg.Config):
    def to_options(self) -> ExtractOptions:
        """Raises dg.Failure (not retried) naming each value ExtractOptions refuses."""
        try:
            return ExtractOptions.model_validate(self.model_dump())
        except ValidationError as error:
            raise dg.Failure(
                f"invalid options: {validation_message(error)}", allow_retries=False
            ) from None


def _config_fields() -> dict[str, Any]:
    """ExtractOptions' fields as Dagster config: types, defaults and descriptions with the
    ranges, which ``to_options`` enforces with ExtractOptions' own rules and messages."""
    fields: dict[str, Any] = {}
    for name, option in ExtractOptions.model_fields.items():
        bounds = constraint_text(name)
        described = f"{option.description} ({bounds})" if bounds else option.description
        fields[name] = (option.annotation, Field(option.default, description=described))
    return fields


if TYPE_CHECKING:

    class ExtractionConfig(_OptionsConfig):
        """Run config of ``frames``: the fields of ExtractOptions."""

else:
    ExtractionConfig = create_model(
        "ExtractionConfig",
        __base__=_OptionsConfig,
        __doc__="Run config of ``frames``: the fields of ExtractOptions.",
        **_config_fields(),
    )


def source_key(storage: FrameStore, partition_key: str) -> str:
    """The file of the video of ``partition_key`` (one rendition of it): its confirmed copy
    under sources/ (made when its first job was created, out of the upload URL's reach),
    else, for a video the API never confirmed (put in the store by hand), the one under
    uploads/. Raises dg.Failure unless there is one."""
    video_id = layout.video_id_of(partition_key)
    keys = storage.list_keys(layout.source_prefix(video_id)) or storage.list_keys(
        layout.upload_prefix(video_id)
    )
    if len(keys) != 1:
        found = "nothing" if not keys else f"{len(keys)} files"
        raise dg.Failure(f"expected one uploaded file for video {video_id}, found {found}")
    return keys[0]


def rejected(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, error: VideoError
) -> dg.Failure:
    """The failure of a run on a video the engine refuses: the user's input, not an outage.
    Tagged ``frameforge/rejected`` (the refusal's kind), so that an operator tells it from
    an internal error in the Runs list and filters by it; not retried. Its metadata carries the
    same key, by which the run's logger tells it from a fault (loggers.py)."""
    kind = type(error).__name__
    context.instance.add_run_tags(context.run.run_id, {job_runs.REJECTED_TAG: kind})
    return dg.Failure(
        description=rejection(error),
        metadata={"reason": str(error), job_runs.REJECTED_TAG: kind},
        allow_retries=False,
    )


def job_of(partition_key: str, database: AppDatabase) -> PartitionJob | None:
    """The job whose partition ``partition_key`` is; None for one no job made."""
    with database.session() as session:
        return partition_job(session, partition_key)


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"video"})
def source_video(
    context: dg.AssetExecutionContext,
    storage: FrameStore,
    database: AppDatabase,
    limits: ExtractionLimits,
) -> VideoFacts:
    """The uploaded video, probed: container, codec, size, rotation, rate, duration; refused
    beyond the limits (a picture too large, a video longer than a job may be)."""
    if job_runs.FILE_NAME_TAG not in context.run.tags and (
        job := job_of(context.partition_key, database)
    ):
        # a run the job queue did not make (a backfill, the UI) is found by the file too
        context.instance.add_run_tags(
            context.run.run_id, {job_runs.FILE_NAME_TAG: job.file_name[:255]}
        )
    key = source_key(storage, context.partition_key)
    try:
        with storage.local_path(key) as path:
            facts = probe(path, limits.engine_limits())
            with path.open("rb") as file:  # which file this is, for the frame index
                sha256 = hashlib.file_digest(file, "sha256").hexdigest()
    except VideoError as error:
        raise rejected(context, error) from None
    # in one piece until the plan of its segments says how long the run may take
    one_piece = segmenting.max_runtime_seconds(facts.duration, segments=1, parallel=1)
    context.instance.add_run_tags(context.run.run_id, {segmenting.MAX_RUNTIME_TAG: str(one_piece)})
    context.add_output_metadata({"source": storage.uri(key), "sha256": sha256, **facts.to_json()})
    return facts


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"json"})
def manifest(
    context: dg.AssetExecutionContext,
    frames: ExtractionResult,
    storyboard: Storyboard | None,
    storage: FrameStore,
    database: AppDatabase,
) -> Manifest:
    """manifest.json: video facts, options, index/time/file/size/sha256 per frame, the
    storyboard's files when there is one, and the name its user gave the video."""
    job = job_of(context.partition_key, database)
    document = build_manifest(
        frames,
        video_id=layout.video_id_of(context.partition_key),
        storyboard=storyboard,
        file_name=job.file_name if job else None,
    )
    key = layout.manifest_key(context.partition_key)
    with storage.open_write(key) as stream:
        stream.write(manifest_bytes(document))
    context.add_output_metadata({"location": storage.uri(key), "frame_count": len(frames.frames)})
    return document


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"zip"})
def frames_zip(
    context: dg.AssetExecutionContext,
    manifest: Manifest,
    storage: FrameStore,
    database: AppDatabase,
) -> dg.MaterializeResult[None]:
    """The download: every frame plus manifest.json, streamed into one ZIP in the store.
    What the rendition's results take in all (frames, manifest, storyboard, ZIP) is then
    recorded on its job: its user's storage quota counts it."""
    video_id = context.partition_key
    prefix = layout.frames_prefix(video_id)
    key = layout.zip_key(video_id)
    frame_files = [frame["file"] for frame in manifest["frames"]]
    with storage.open_write(key) as stream, FrameZip(stream) as archive:
        for name in frame_files:
            with storage.open_read(prefix + name) as source:
                archive.copy(name, source)
        for name in storyboard_files(manifest):
            key_in_store = layout.storyboard_key(video_id, name.removeprefix(STORYBOARD_DIR))
            with storage.open_read(key_in_store) as source:
                archive.copy(name, source)
        archive.add_manifest(manifest)
    results = storage.list_keys(layout.results_prefix(video_id))
    stored = sum(frame["bytes"] for frame in manifest["frames"])
    stored += sum(storage.size(key) for key in results)
    with database.session() as session:
        storage_use.record_results(session, video_id, stored)
    return dg.MaterializeResult(
        metadata={
            "location": dg.MetadataValue.url(storage.uri(key)),
            "bytes": storage.size(key),
            "frame_count": len(frame_files),
            "entries": len(frame_files) + len(storyboard_files(manifest)) + 1,
            "manifest_entry": MANIFEST_NAME,
            "stored_bytes": stored,
        }
    )
