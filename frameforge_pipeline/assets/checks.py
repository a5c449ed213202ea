"""Asset checks on what was stored: the frame count fits the duration, times increase,
the ZIP opens and matches the manifest. They read the partition's manifest.json from the
store, as a user would, rather than an in-memory value.
"""

import json
from collections.abc import Iterator
from fractions import Fraction

import dagster as dg

from frameforge_core import layout
from frameforge_pipeline.assets.extraction import frames_zip, manifest
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.engine.manifest import Manifest
from frameforge_pipeline.resources import FrameStore


def _stored_manifest(context: dg.AssetCheckExecutionContext, storage: FrameStore) -> Manifest:
    with storage.open_read(layout.manifest_key(_video_id(context))) as stream:
        document: Manifest = json.load(stream)
    return document


def _video_id(context: dg.AssetCheckExecutionContext) -> str:
    return context.op_execution_context.partition_key


def expected_frame_count(document: Manifest) -> Fraction | None:
    """duration x fps over the requested window; None when there is no fps grid or duration."""
    options, duration = document["options"], document["video"]["duration"]
    if options["mode"] != "interval" or duration is None:
        return None
    duration = Fraction(str(duration))
    end = duration if options["end"] is None else min(duration, Fraction(str(options["end"])))
    window = max(end - Fraction(str(options["start"])), Fraction(0))
    return window * Fraction(str(options["fps"]))


@dg.asset_check(asset=manifest, description="frame count = duration x fps, within one frame")
def frame_count_matches_duration(
    context: dg.AssetCheckExecutionContext, storage: FrameStore
) -> dg.AssetCheckResult:
    """Warns rather than fails: a gap in a variable-frame-rate video can skip targets.
    Frames dropped as near-duplicates (the dedupe option) count as extracted."""
    document = _stored_manifest(context, storage)
    expected = expected_frame_count(document)
    count = len(document["frames"]) + document["extraction"].get("dropped_duplicates", 0)
    return dg.AssetCheckResult(
        passed=expected is None or abs(count - expected) <= 1,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"frame_count": count, "expected": None if expected is None else float(expected)},
    )


@dg.asset_check(asset=manifest, description="frame timestamps strictly increase")
def timestamps_strictly_increasing(
    context: dg.AssetCheckExecutionContext, storage: FrameStore
) -> dg.AssetCheckResult:
    times = [frame["timestamp_ms"] for frame in _stored_manifest(context, storage)["frames"]]
    bad = [i for i in range(1, len(times)) if times[i] <= times[i - 1]]
    return dg.AssetCheckResult(
        passed=not bad, metadata={"frames": len(times), "out_of_order_at": bad[:20]}
    )


ZIP_MISMATCH = "the frames ZIP failed its integrity check"


@dg.multi_asset_check(  # the one kind of check Dagster lets yield, then fail
    specs=[
        dg.AssetCheckSpec(
            "zip_matches_manifest",
            asset=frames_zip,
            blocking=True,
            description="the ZIP opens and matches its manifest; blocking: a job whose ZIP "
            "fails it ends failed, never announced as completed",
        )
    ],
    name="zip_matches_manifest",
)
def zip_matches_manifest(
    context: dg.AssetCheckExecutionContext, storage: FrameStore
) -> Iterator[dg.AssetCheckResult]:
    """Records the evaluation (the UI shows the problems), then fails the step with a reason
    the user can read: Dagster's own blocking failure names no reason."""
    # a ZIP is read from its end: a local (seekable) file, downloaded first from S3
    with (
        storage.local_path(layout.zip_key(_video_id(context))) as path,
        path.open("rb") as zip_file,
    ):
        problems = zip_problems(zip_file)
    yield dg.AssetCheckResult(
        asset_key=frames_zip.key,
        check_name="zip_matches_manifest",
        passed=not problems,
        metadata={"problems": problems[:20], "count": len(problems)},
    )
    if problems:
        raise dg.Failure(
            description=f"{ZIP_MISMATCH} (it does not match its manifest: {problems[0]}"
            f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}); retry the job",
            metadata={"problems": problems[:20]},
            allow_retries=False,
        )
