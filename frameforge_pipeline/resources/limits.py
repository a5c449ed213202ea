"""What a run may take on, as a resource: the engine's Limits, built from the settings of the
process that loads the code location (``resources_for_environment``) and handed to the
engine by the assets; the Dagster UI shows them as plain values."""

from __future__ import annotations

import dagster as dg

from frameforge_core.settings import JobQuotaSettings, PictureLimitSettings
from frameforge_pipeline.engine.limits import Limits


class ExtractionLimits(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The largest picture (pixels a side and in all; unset: the engine's defaults), and a
    job's quotas: seconds of video and frames extracted (unset: none)."""

    max_picture_side: int | None = None
    max_picture_pixels: int | None = None
    max_video_seconds: float | None = None
    max_frames_per_job: int | None = None

    @classmethod
    def from_settings(
        cls, picture: PictureLimitSettings, quotas: JobQuotaSettings
    ) -> ExtractionLimits:
        return cls(
            max_picture_side=picture.max_picture_side,
            max_picture_pixels=picture.max_picture_pixels,
            max_video_seconds=quotas.quota_video_seconds,
            max_frames_per_job=quotas.quota_frames_per_job,
        )

    def engine_limits(self) -> Limits:
        return Limits.build(
            self.max_picture_side,
            self.max_picture_pixels,
            self.max_video_seconds,
            self.max_frames_per_job,
        )
