"""How a video's extraction is split and run: how many segments, on which executor, how long.

A video up to ``segment_seconds`` long (5 min by default, the engine's) is one segment,
extracted in the run's own process (the in-process executor: no step start-up to pay). A
longer one is split into keyframe-aligned segments of about ``segment_seconds`` each, and its
run uses the executor that runs steps side by side: processes up to the machine's cores in
the embedded default (the multiprocess executor, forkserver start), Kubernetes Jobs in
production (dagster-k8s's k8s_job_executor, when the instance's run launcher is the
K8sRunLauncher). The job sensor chooses by the duration the API read from the video's header
(``VideoJob.video_seconds``); a run launched without that choice (a backfill, the UI) runs in
process, its segments one after the other.

A video that cannot be split (the engine's plan gives one segment and says why) is extracted
in one piece, and refused past ``ONE_PIECE_MAX_SECONDS`` (the cap every video had before):
one process would decode it for longer than a run should hold its slot.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from frameforge_pipeline.engine.errors import VideoError
from frameforge_pipeline.engine.segment_plan import DEFAULT_SEGMENT_SECONDS

ONE_PIECE_MAX_SECONDS = 3 * 3600
MAX_RUNTIME_TAG = "dagster/max_runtime"  # read by run monitoring (dagster.yaml)
# A run may take this long plus this many seconds per second of video a process decodes
# before run monitoring cancels it: decoding is several times faster than real time.
RUNTIME_BASE_SECONDS = 600
RUNTIME_PER_VIDEO_SECOND = 4
# Each step of a segmented run starts a process (or a pod) of its own: measured 2-3 s for a
# process (bench/segment_steps.py), allowed a minute for a pod (image cached, node ready).
RUNTIME_PER_STEP_SECONDS = 60
EXECUTION_MODES = ("in_process", "multiprocess", "k8s")


class CannotSplitError(VideoError):
    """A video too long for one piece that the engine cannot split safely."""


@dataclass(frozen=True)
class SegmentPolicy:
    segment_seconds: float
    max_step_pods: int
    step_service_account: str | None = None

    @classmethod
    def from_environment(cls) -> SegmentPolicy:
        from frameforge_core.settings import SegmentSettings

        settings = SegmentSettings()
        return cls(
            settings.segment_seconds or DEFAULT_SEGMENT_SECONDS,
            settings.max_step_pods,
            settings.step_service_account,
        )

    def segment_count(self, duration: Fraction | float | None) -> int:
        """How many segments a video of ``duration`` seconds asks for (1: not split)."""
        if duration is None or duration <= self.segment_seconds:
            return 1
        return math.ceil(float(duration) / self.segment_seconds)

    def execution(self, duration: float | None, on_kubernetes: bool) -> dict[str, Any]:
        """The ``execution`` run config of a run of a video of ``duration`` seconds."""
        if self.segment_count(duration) == 1:
            return {"config": {"in_process": {}}}
        return self.segmented_execution(on_kubernetes)

    def segmented_execution(self, on_kubernetes: bool) -> dict[str, Any]:
        """The ``execution`` run config of a run whose segments go side by side."""
        if on_kubernetes:
            # Each step a Job configured as the run's (helm-values/dagster.yaml: image, env,
            # resources, security), owned by the run's pod: deleting it (a cancel, its TTL)
            # deletes every segment's pod. The steps decode users' videos: they run as an
            # account without the run pod's right to start Jobs.
            k8s: dict[str, Any] = {
                "max_concurrent": self.max_step_pods,
                "enable_owner_references": True,
            }
            if self.step_service_account:
                k8s["step_k8s_config"] = {
                    "pod_spec_config": {"service_account_name": self.step_service_account}
                }
            return {"config": {"k8s": k8s}}
        return {
            "config": {
                "multiprocess": {
                    "max_concurrent": os.cpu_count() or 1,
                    "start_method": {"forkserver": {}},
                }
            }
        }


def parallelism(run_config: dict[str, Any], policy: SegmentPolicy) -> int:
    """How many segments of a run with ``run_config`` are extracted at once."""
    execution = (run_config.get("execution") or {}).get("config") or {"in_process": {}}
    mode, config = next(iter(execution.items()))
    if mode == "in_process":
        return 1
    default = policy.max_step_pods if mode == "k8s" else (os.cpu_count() or 1)
    return max(1, int((config or {}).get("max_concurrent") or default))


def max_runtime_seconds(duration: Fraction | None, segments: int, parallel: int) -> int:
    """How long a run may hold its slot: the video decoded ``min(segments, parallel)`` ways
    at once, plus each wave of segment steps' start-up."""
    seconds = float(duration) if duration is not None else 0.0
    ways = max(1, min(segments, parallel))
    waves = math.ceil(segments / ways) if segments > 1 else 0
    return round(
        RUNTIME_BASE_SECONDS
        + RUNTIME_PER_VIDEO_SECOND * seconds / ways
        + RUNTIME_PER_STEP_SECONDS * waves
    )


def check_one_piece(duration: Fraction | None, reason: str) -> None:
    """Raises CannotSplitError for a video past ONE_PIECE_MAX_SECONDS that is one segment."""
    if duration is not None and duration > ONE_PIECE_MAX_SECONDS:
        raise CannotSplitError(
            f"the video is {float(duration) / 3600:.1f} h long and cannot be split into "
            f"segments ({reason}); a video extracted in one piece may be at most "
            f"{ONE_PIECE_MAX_SECONDS // 3600} h"
        )
