"""Why a video is rejected. Every error carries a one-line reason meant for the user."""


class VideoError(Exception):
    """A video that cannot be processed. ``str(error)`` is the human reason."""


EMPTY_FILE = "the file is empty (0 bytes)"  # the API refuses to take one in the same words


class EmptyFileError(VideoError):
    """The file has zero bytes."""


class NotAVideoError(VideoError):
    """No media container could be recognised, or it holds a still image."""


class NoVideoStreamError(VideoError):
    """A media file without any video stream (for example audio only)."""


class CorruptVideoError(VideoError):
    """A recognised container that cannot be read or decoded (truncated, damaged, unsupported)."""


class PictureTooLargeError(VideoError):
    """A picture (coded or as displayed) beyond the size limits of PictureLimits."""


class VideoTooLongError(VideoError):
    """A video longer than a job may be (Limits.max_seconds)."""


class TooManyFramesError(VideoError):
    """More frames than a job may extract (Limits.max_frames)."""


class EmptyWindowError(VideoError):
    """The options' window (start, end, mode) holds no frame of the video."""


def rejection(error: VideoError) -> str:
    """What a user is told of a video that cannot be processed, in the same words wherever
    it is found: the API's read of the upload's header, or the pipeline's probe."""
    return f"video rejected: {error}"
