"""A container's short name, as a person calls the file (``mp4``, ``mov``, ``webm``, ``mkv``,
``avi``), from what the file is, not what it is named."""

from __future__ import annotations

import av

# What WebM may hold (the rest of Matroska is "mkv"); FFmpeg reads both with one demuxer
_WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO = frozenset({"opus", "vorbis"})


def name_of(container: av.container.InputContainer, video_codec: str) -> str:
    """``container``'s short name (``container_name``)."""
    audio = [stream.codec_context.name for stream in container.streams.audio]
    return container_name(container.format.name, dict(container.metadata), video_codec, audio)


def container_name(
    demuxer: str, metadata: dict[str, str], video_codec: str, audio_codecs: list[str]
) -> str:
    """The container's short name, as a person calls the file (``mp4``, ``mov``, ``webm``,
    ``mkv``, ``avi``), from what the file is, not what it is named: FFmpeg names its demuxer
    after every format it reads (``mov,mp4,m4a,3gp,3g2,mj2``), so the MP4 family is told
    apart by the file's major brand, and WebM from the rest of Matroska by its codecs."""
    names = demuxer.split(",")
    if names[0] == "mov":
        brand = metadata.get("major_brand", "").strip()
        if brand in ("qt", ""):  # MP4 starts with its brand; a classic QuickTime file has none
            return "mov"
        if brand.startswith(("3gp", "3g2")):
            return brand[:3]
        return "mj2" if brand == "mjp2" else "mp4"
    if names[0] == "matroska":
        webm = video_codec in _WEBM_VIDEO and set(audio_codecs) <= _WEBM_AUDIO
        return "webm" if webm else "mkv"
    return names[0]
