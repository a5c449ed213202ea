"""What an upload's container header says, read when its job is asked for: whether it is a
video at all, and how long it declares to be.

A file that is empty, not a media container, a still image, audio only or a container
FFmpeg cannot read is refused here, with the reason the pipeline's probe would give, before
any run exists. Only the header is read (no decoding; an S3 upload through a presigned GET,
of which FFmpeg reads only the parts it needs), so a file whose header is fine but whose
frames cannot be decoded still fails in its run.
"""

from __future__ import annotations

import logging
from fractions import Fraction

from frameforge_core.errors import Invalid
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.resources import FrameStore

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


def declared_duration(storage: FrameStore, key: str) -> Fraction | None:
    """The duration the video's header declares, in seconds; None when it declares none
    (the pipeline's probe has the last word then), or when the store cannot be read (a
    timeout, say: the run reads the file again).

    Raises Invalid, with the pipeline's reason, for a file that is not a video.
    """
    import av  # PyAV when a job is asked for, not when the API is imported

    from frameforge_pipeline.engine.errors import VideoError, rejection
    from frameforge_pipeline.engine.probe import HEAD_BYTES, open_remote_video, open_video
    from frameforge_pipeline.engine.probe import declared_duration as duration_of

    def head() -> bytes:
        with storage.open_read(key) as stream:
            return stream.read(HEAD_BYTES)

    try:
        if url := storage.presigned_url("GET", key, 300):
            size = storage.size(key)
            with open_remote_video(url, size, head, TIMEOUT_SECONDS) as (container, stream):
                return duration_of(container, stream)
        with storage.local_path(key) as path, open_video(path) as (container, stream):
            return duration_of(container, stream)
    except VideoError as error:
        raise Invalid(rejection(error)) from None
    except (av.FFmpegError, OSError) as error:
        log.warning("the header of %s could not be read: %s", key, error)
        return None


def check_window(duration: Fraction | None, options: ExtractOptions) -> None:
    """Raises Invalid when the options' window starts at or after the video's end: it
    holds no frame (a video whose header declares no duration is the run's to judge)."""
    if duration is not None and options.start_fraction >= duration:
        raise Invalid(
            f"the window starts at {options.start:g} s, after the end of the video "
            f"({float(duration):.1f} s): there is no frame to extract; lower start"
        )
