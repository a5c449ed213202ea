"""``frames``: a graph-backed asset that extracts a video in segments, side by side.

plan_frames (the segments: keyframe-aligned parts of the video) -> one DynamicOutput each
-> extract_segment, mapped (each segment its own step: its own process in the embedded
default, its own pod on Kubernetes; segmenting.py says which executor a run uses) -> collect
-> join_frames (the segments' frames named in order, as one extraction would have named
them, into frames/<partition key>/; the ExtractionResult that ``manifest`` reads).

Why a graph and not one asset that fans out itself: each segment is a Dagster step, so a
failed segment is re-executed alone (re-execution from failure keeps the others' outputs),
the executor decides where segments run (a process, a pod), a cancel stops every step, and
the UI shows each segment's logs and timing. The asset stays one asset: ``source_video`` is
the graph's input, taken by the plan and by the join (whose output is the asset), so
lineage and data versions are those of the one-piece asset; its run config is unchanged
(``ops: frames: config: <ExtractOptions>``, mapped onto the plan).

A one-segment video is extracted in one piece straight into frames/<partition key>/; the
segments of a longer one leave theirs under segments/<partition key>/, from where the join
(frameforge_pipeline.engine.segments.join_segments) writes them under their final names.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import dagster as dg
from pydantic import ValidationError

from frameforge_core import layout
from frameforge_pipeline import segmenting
from frameforge_pipeline.assets.extraction import (
    GROUP,
    ExtractionConfig,
    job_of,
    rejected,
    source_key,
)
from frameforge_pipeline.engine.errors import VideoError
from frameforge_pipeline.engine.extractor import ENGINE_VERSION, extract
from frameforge_pipeline.engine.options import ExtractOptions, validation_message
from frameforge_pipeline.engine.probe import VideoFacts
from frameforge_pipeline.engine.records import ExtractionResult, FrameRecord, Progress
from frameforge_pipeline.engine.segments import (
    Segment,
    SegmentResult,
    join_segments,
    plan_segments,
    segment_folder,
)
from frameforge_pipeline.engine.segments import extract_segment as extract_segment_frames
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.partitions import videos
from frameforge_pipeline.preview import preview_markdown
from frameforge_pipeline.resources import AppDatabase, ExtractionLimits, FrameStore


@dataclass(frozen=True)
class SegmentTask:
    """What the plan hands one segment's step."""

    segment: Segment
    options: ExtractOptions
    expected: int | None  # frames of the whole video, when the plan knows them


@dataclass(frozen=True)
class SegmentOutcome:
    """What a segment's step hands the join: the one-piece result of a video in one
    segment (its frames already in place), else the segment's frames under segments/."""

    index: int
    options: ExtractOptions
    result: ExtractionResult | SegmentResult


class _StoreSink:
    """Writes each frame to the store as it comes out of the extractor."""

    def __init__(self, storage: FrameStore, prefix: str):
        self._storage, self._prefix = storage, prefix

    def write(self, record: FrameRecord, data: bytes) -> None:
        with self._storage.open_write(self._prefix + record.file) as stream:
            stream.write(data)


@dg.op(out=dg.DynamicOut(SegmentTask), tags={"kind": "plan"})
def plan_frames(
    context: dg.OpExecutionContext,
    config: ExtractionConfig,
    source_video: VideoFacts,
    storage: FrameStore,
    database: AppDatabase,
    limits: ExtractionLimits,
) -> Iterator[dg.DynamicOutput[SegmentTask]]:
    """The options of the partition's job (whatever the run config says: a backfill or a
    materialization launched in the UI must not change what its user chose), the video's
    segments, and the run's maximum runtime from their count."""
    partition = context.partition_key
    options = _options(context, config, database)
    policy = segmenting.SegmentPolicy.from_environment()
    # a rerun must not mix with an earlier run's frames
    storage.delete_prefix(layout.frames_prefix(partition))
    storage.delete_prefix(layout.segments_prefix(partition))
    try:
        with storage.local_path(source_key(storage, partition)) as path:
            segments = plan_segments(
                path,
                options,
                seconds_per_segment=policy.segment_seconds,
                limits=limits.engine_limits(),
            )
        if len(segments) == 1 and (why := _whole_because(segments[0], source_video, policy)):
            segmenting.check_one_piece(source_video.duration, why)
    except VideoError as error:
        raise rejected(context, error) from None
    parallel = segmenting.parallelism(dict(context.run.run_config), policy)
    runtime = segmenting.max_runtime_seconds(source_video.duration, len(segments), parallel)
    context.instance.add_run_tags(context.run.run_id, {segmenting.MAX_RUNTIME_TAG: str(runtime)})
    whole = segments[0].whole_because
    context.log.info(
        f"{len(segments)} segment(s), {min(parallel, len(segments))} at once; "
        f"maximum runtime {runtime} s" + (f"; in one piece: {whole}" if whole else "")
    )
    counts = [segment.expected_frames for segment in segments]
    expected = sum(counts) if all(counts) and options.mode != "scene" else None
    for segment in segments:
        yield dg.DynamicOutput(
            SegmentTask(segment, options, expected), mapping_key=f"{segment.index:05d}"
        )


def _whole_because(
    segment: Segment, facts: VideoFacts, policy: segmenting.SegmentPolicy
) -> str | None:
    """Why a video planned as one segment could not be split (None: it is short)."""
    if segment.whole_because is not None:
        return segment.whole_because
    if facts.duration is not None and facts.duration > policy.segment_seconds:
        return "it has no keyframe to split it at"
    return None


def _options(
    context: dg.OpExecutionContext, config: ExtractionConfig, database: AppDatabase
) -> ExtractOptions:
    """The job's options; the run config's only for a partition no job made."""
    job = job_of(context.partition_key, database)
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


@dg.op(tags={"kind": "segment"})
def extract_segment(
    context: dg.OpExecutionContext,
    task: SegmentTask,
    storage: FrameStore,
    limits: ExtractionLimits,
) -> SegmentOutcome:
    """One segment's frames, into the store; its progress counts in the run's. A video in
    one segment is extracted in one piece straight into frames/<partition key>/."""
    partition, segment = context.partition_key, task.segment
    whole = segment.count == 1
    prefix = (
        layout.frames_prefix(partition)
        if whole
        else f"{layout.segments_prefix(partition)}{segment_folder(segment.index)}/"
    )
    counted = task.options.mode != "scene"  # scene mode knows its frames once it has found them
    progress = (
        job_runs.RunProgress(context.instance, context.run)
        if whole
        else job_runs.SegmentProgress(
            context.instance, context.run, segment.index, segment.count, task.expected
        )
    )
    result: ExtractionResult | SegmentResult
    try:
        with progress, storage.local_path(source_key(storage, partition)) as path:

            def report(made: Progress) -> None:
                progress.report(made.done, made.expected if counted else None)

            if whole:
                sink = _StoreSink(storage, prefix)
                result = extract(path, task.options, sink, report, limits=limits.engine_limits())
                done = len(result.frames) + result.dropped_duplicates
            else:
                storage.delete_prefix(prefix)  # what a crashed attempt of it left
                staged = layout.segments_prefix(partition)
                result = _extract_into_store(path, task, storage, staged, report, limits)
                done = len(result.frames)
            progress.report(done, done)
    except BaseException as error:
        storage.delete_prefix(prefix)  # no half set of frames survives a failure
        if isinstance(error, VideoError):
            raise rejected(context, error) from None
        raise
    context.add_output_metadata(
        {"frame_count": len(result.frames), "seconds": round(result.work.seconds, 3)}
    )
    return SegmentOutcome(segment.index, task.options, result)


def _extract_into_store(
    path: Path,
    task: SegmentTask,
    storage: FrameStore,
    staged: str,
    report: Callable[[Progress], None],
    limits: ExtractionLimits,
) -> SegmentResult:
    """The segment's frames, each written to the store as it is made, under ``staged``
    (segments/<partition key>/), where ``join_segments`` reads them: a pod needs no disk
    for them."""

    def save(name: str, data: bytes) -> None:
        with storage.open_write(staged + name) as target:
            target.write(data)

    return extract_segment_frames(
        path, task.options, task.segment, None, report, limits=limits.engine_limits(), save=save
    )


@dg.op(tags={"kind": "join"})
def join_frames(
    context: dg.OpExecutionContext,
    source_video: VideoFacts,
    segments: list[SegmentOutcome],
    storage: FrameStore,
    database: AppDatabase,
    limits: ExtractionLimits,
) -> dg.Output[ExtractionResult]:
    """The segments' frames in order, numbered and named as one extraction names them (dedupe
    applied across boundaries), with whose they are (job id, user id, file name), so that an
    operator finds the partition by them."""
    partition = context.partition_key
    prefix = layout.frames_prefix(partition)
    outcomes = sorted(segments, key=lambda outcome: outcome.index)
    first = outcomes[0].result
    if isinstance(first, ExtractionResult):  # one piece: the frames are in place
        result = first
    else:
        staged = layout.segments_prefix(partition)

        def read(name: str) -> bytes:
            with storage.open_read(staged + name) as stream:
                return stream.read()

        parts = [cast(SegmentResult, outcome.result) for outcome in outcomes]
        try:
            sink = _StoreSink(storage, prefix)
            options = outcomes[0].options
            result = join_segments(
                source_video, options, parts, sink, read, limits=limits.engine_limits()
            )
        except BaseException as error:
            storage.delete_prefix(prefix)  # the segments stay: a retry of the join reuses them
            if isinstance(error, VideoError):  # past a job's limits, as one piece would be
                raise rejected(context, error) from None
            raise
        storage.delete_prefix(staged)
        done = len(result.frames) + result.dropped_duplicates
        context.instance.add_run_tags(context.run.run_id, {job_runs.PROGRESS_TAG: f"{done}/{done}"})
    job = job_of(partition, database)
    whose: dict[str, str] = {}
    if job is not None:
        whose = {"job_id": job.job_id, "user_id": job.user_id, "file_name": job.file_name}
    return dg.Output(
        result,
        metadata={
            "frame_count": len(result.frames),
            "expected_frames": result.work.expected_frames,
            "decoded_frames": result.work.decoded_frames,
            "corrupt_frames": result.work.corrupt_frames,
            "seeks": result.work.seeks,
            "seconds": round(result.work.seconds, 3),
            "speed": _speed(result),
            "segments": len(outcomes),
            "options": result.options.model_dump(mode="json"),
            **whose,
            "location": storage.uri(prefix),
            **_first_frame_preview(storage, prefix, result),
        },
    )


def _speed(result: ExtractionResult) -> float | None:
    """Seconds of video extracted per second of work (the window's length, not the file's)."""
    duration, options = result.facts.duration, result.options
    if duration is None or result.work.seconds <= 0:
        return None
    end = duration if options.end is None else min(duration, Fraction(str(options.end)))
    window = max(end - Fraction(str(options.start)), Fraction(0))
    return round(float(window) / result.work.seconds, 2)


def _first_frame_preview(
    storage: FrameStore, prefix: str, result: ExtractionResult
) -> dict[str, dg.MetadataValue]:
    if not result.frames:
        return {}
    with storage.open_read(prefix + result.frames[0].file) as stream:
        markdown = preview_markdown(stream.read(), "first frame")
    return {"first_frame": dg.MetadataValue.md(markdown)} if markdown else {}


def _plan_config(config: dict[str, Any]) -> dict[str, Any]:
    """The asset's run config (``ops: frames: config:``, ExtractOptions' fields) is the plan's."""
    return {"plan_frames": {"config": config}}


@dg.graph_asset(
    partitions_def=videos,
    group_name=GROUP,
    code_version=ENGINE_VERSION,
    kinds={"image"},
    config=dg.ConfigMapping(
        config_fn=_plan_config, config_schema=ExtractionConfig.to_config_schema()
    ),
)
def frames(source_video: VideoFacts) -> ExtractionResult:
    """The sampled frames, one image file each under frames/<partition key>/, extracted in
    keyframe-aligned segments, each its own step, and joined in order: the same files and
    records as one extraction of the whole video."""
    segments = plan_frames(source_video).map(extract_segment)
    return join_frames(source_video, segments.collect())  # type: ignore[no-any-return]
