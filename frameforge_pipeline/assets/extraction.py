"""Per video partition: source_video -> frames -> manifest -> frames_zip."""

import hashlib
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, ValidationError, create_model

from frameforge_core import layout, storage_use
from frameforge_pipeline.engine.archive import FrameZip
from frameforge_pipeline.engine.errors import VideoError, rejection
from frameforge_pipeline.engine.extractor import ENGINE_VERSION, extract
from frameforge_pipeline.engine.manifest import (
    MANIFEST_NAME,
    Manifest,
    build_manifest,
    manifest_bytes,
)
from frameforge_pipeline.engine.options import ExtractOptions, constraint_text, validation_message
from frameforge_pipeline.engine.probe import VideoFacts, probe
from frameforge_pipeline.engine.records import ExtractionResult, FrameRecord, Progress
from frameforge_pipeline.engine.storyboard import Storyboard
from frameforge_pipeline.engine.storyboard_names import STORYBOARD_DIR, storyboard_files
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.partition_jobs import PartitionJob, partition_job
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.preview import preview_markdown
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


class _StoreSink:
    """Writes each frame to the store as it comes out of the extractor."""

    def __init__(self, storage: FrameStore, prefix: str):
        self._storage, self._prefix = storage, prefix

    def write(self, record: FrameRecord, data: bytes) -> None:
        with self._storage.open_write(self._prefix + record.file) as stream:
            stream.write(data)


def _rejected(context: dg.AssetExecutionContext, error: VideoError) -> dg.Failure:
    """The failure of a run on a video the engine refuses: the user's input, not an outage.
    Tagged ``frameforge/rejected`` (the refusal's kind), so that an operator tells it from
    an internal error in the Runs list and filters by it; not retried."""
    context.instance.add_run_tags(context.run.run_id, {job_runs.REJECTED_TAG: type(error).__name__})
    return dg.Failure(
        description=rejection(error),
        metadata={"reason": str(error), "error": type(error).__name__},
        allow_retries=False,
    )


# A run may take this long plus this many seconds per second of video before run monitoring
# cancels it (dagster.yaml): decoding is several times faster than real time on 2 cores.
RUNTIME_BASE_SECONDS = 600
RUNTIME_PER_VIDEO_SECOND = 4
MAX_RUNTIME_TAG = "dagster/max_runtime"


def max_runtime_seconds(facts: VideoFacts) -> int:
    """How long a run of this video may hold its slot."""
    duration = float(facts.duration) if facts.duration is not None else 0.0
    return round(RUNTIME_BASE_SECONDS + RUNTIME_PER_VIDEO_SECOND * duration)


def _job_of(context: dg.AssetExecutionContext, database: AppDatabase) -> PartitionJob | None:
    with database.session() as session:
        return partition_job(session, context.partition_key)


@dg.asset(partitions_def=videos, group_name=GROUP, code_version="1", kinds={"video"})
def source_video(
    context: dg.AssetExecutionContext,
    storage: FrameStore,
    database: AppDatabase,
    limits: ExtractionLimits,
) -> VideoFacts:
    """The uploaded video, probed: container, codec, size, rotation, rate, duration; refused
    beyond the limits (a picture too large, a video longer than a job may be)."""
    if job_runs.FILE_NAME_TAG not in context.run.tags and (job := _job_of(context, database)):
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
        raise _rejected(context, error) from None
    context.instance.add_run_tags(
        context.run.run_id, {MAX_RUNTIME_TAG: str(max_runtime_seconds(facts))}
    )
    context.add_output_metadata({"source": storage.uri(key), "sha256": sha256, **facts.to_json()})
    return facts


@dg.asset(
    partitions_def=videos,
    group_name=GROUP,
    code_version=ENGINE_VERSION,
    deps=[source_video],
    kinds={"image"},
)
def frames(
    context: dg.AssetExecutionContext,
    config: ExtractionConfig,
    storage: FrameStore,
    database: AppDatabase,
    limits: ExtractionLimits,
) -> ExtractionResult:
    """The sampled frames, one image file each under frames/<partition key>/, extracted with
    the options of the partition's job (whatever the run config says: a backfill or a
    materialization launched in the UI must not change what its user chose); with whose
    they are (job id, user id, file name), so that an operator finds the partition by them.
    A job's frames are refused past the limits (``limits``), as its user's other refusals."""
    video_id = context.partition_key
    job = _job_of(context, database)
    options = _options(context, config, job)
    whose: dict[str, str] = {}
    if job is not None:
        whose = {"job_id": job.job_id, "user_id": job.user_id, "file_name": job.file_name}
    prefix = layout.frames_prefix(video_id)
    storage.delete_prefix(prefix)  # a rerun must not mix with an earlier run's frames
    counted = options.mode != "scene"  # scene mode knows its frames once it has found them
    try:
        with (
            job_runs.RunProgress(context.instance, context.run) as progress,
            storage.local_path(source_key(storage, video_id)) as path,
        ):

            def report(made: Progress) -> None:
                progress.report(made.done, made.expected if counted else None)

            sink = _StoreSink(storage, prefix)
            result = extract(path, options, sink, report, limits=limits.engine_limits())
            done = len(result.frames) + result.dropped_duplicates
            progress.report(done, done)
    except BaseException as error:
        storage.delete_prefix(prefix)  # no half set of frames survives a failure
        if isinstance(error, VideoError):
            raise _rejected(context, error) from None
        raise
    context.add_output_metadata(
        {
            "frame_count": len(result.frames),
            "expected_frames": result.expected_frames,
            "decoded_frames": result.decoded_frames,
            "corrupt_frames": result.corrupt_frames,
            "seeks": result.seeks,
            "seconds": round(result.seconds, 3),
            "speed": _speed(result),
            "options": options.model_dump(mode="json"),
            **whose,
            "location": storage.uri(prefix),
            **_first_frame_preview(storage, prefix, result),
        }
    )
    return result


def _options(
    context: dg.AssetExecutionContext, config: ExtractionConfig, job: PartitionJob | None
) -> ExtractOptions:
    """The job's options; the run config's only for a partition no job made."""
    if job is None:
        return config.to_options()
    try:
        chosen = ExtractOptions.model_validate(job.options)
    except ValidationError as error:
        raise dg.Failure(
            f"invalid options of job {job.job_id}: {validation_message(error)}",
            allow_retries=False,
        ) from None
    given = config.to_options()
    if given != chosen and given != ExtractOptions():  # options set by hand, not defaults
        context.log.warning(
            f"run config ignored: partition {context.partition_key} belongs to job "
            f"{job.job_id}, extracted with its own options {chosen.model_dump(mode='json')}"
        )
    return chosen


def _speed(result: ExtractionResult) -> float | None:
    """Seconds of video extracted per second of work (the window's length, not the file's)."""
    duration, options = result.facts.duration, result.options
    if duration is None or result.seconds <= 0:
        return None
    end = duration if options.end is None else min(duration, Fraction(str(options.end)))
    window = max(end - Fraction(str(options.start)), Fraction(0))
    return round(float(window) / result.seconds, 2)


def _first_frame_preview(
    storage: FrameStore, prefix: str, result: ExtractionResult
) -> dict[str, dg.MetadataValue]:
    if not result.frames:
        return {}
    with storage.open_read(prefix + result.frames[0].file) as stream:
        markdown = preview_markdown(stream.read(), "first frame")
    return {"first_frame": dg.MetadataValue.md(markdown)} if markdown else {}


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
    job = _job_of(context, database)
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
