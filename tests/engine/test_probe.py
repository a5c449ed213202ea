from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from frameforge_pipeline.engine.container_names import container_name
from frameforge_pipeline.engine.errors import (
    CorruptVideoError,
    EmptyFileError,
    NotAVideoError,
    NoVideoStreamError,
    VideoError,
)
from frameforge_pipeline.engine.probe import probe
from tests.sample_clips import write_audio_only


@pytest.mark.parametrize(
    ("name", "codec", "container", "demuxer", "codec_name"),
    [
        ("h264.mp4", "libx264", "mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264"),
        ("vp9.webm", "libvpx-vp9", "webm", "matroska,webm", "vp9"),
        ("hevc.mkv", "libx265", "mkv", "matroska,webm", "hevc"),
        ("mjpeg.avi", "mjpeg", "avi", "avi", "mjpeg"),
        ("h264.mov", "libx264", "mov", "mov,mp4,m4a,3gp,3g2,mj2", "h264"),
    ],
)
def test_probe_reads_each_container_and_codec(
    make_clip, name, codec, container, demuxer, codec_name
):
    clip = make_clip(name, codec=codec, seconds=2)
    facts = probe(clip.path)
    assert (facts.container, facts.demuxer, facts.codec) == (container, demuxer, codec_name)
    assert (facts.width, facts.height, facts.rotation) == (320, 240, 0)
    assert facts.fps == 30
    assert facts.duration == pytest.approx(2, abs=0.05)
    assert facts.frame_count in (60, None)  # Matroska does not declare a count
    assert facts.size_bytes == clip.path.stat().st_size


def test_probe_keeps_ntsc_rate_exact(make_clip):
    facts = probe(make_clip("ntsc.mp4", fps=Fraction(30000, 1001), seconds=2).path)
    assert facts.fps == Fraction(30000, 1001)
    assert facts.to_json()["fps_exact"] == "30000/1001"


@pytest.mark.parametrize(
    ("demuxer", "brand", "codec", "audio", "name"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "isom", "h264", ["aac"], "mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "mp42", "hevc", [], "mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "qt  ", "prores", [], "mov"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "3gp4", "h263", ["amr_nb"], "3gp"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "", "h264", [], "mov"),  # no ftyp: a classic QuickTime
        ("matroska,webm", "", "vp9", ["opus"], "webm"),
        ("matroska,webm", "", "vp9", ["aac"], "mkv"),  # WebM holds no AAC
        ("matroska,webm", "", "h264", [], "mkv"),
        ("mpegts", "", "h264", [], "mpegts"),
    ],
)
def test_container_names_are_what_people_call_the_file(demuxer, brand, codec, audio, name):
    metadata = {"major_brand": brand} if brand else {}
    assert container_name(demuxer, metadata, codec, audio) == name


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_probe_reports_upright_display_size_of_rotated_video(make_clip, rotation):
    facts = probe(make_clip(f"rot{rotation}.mp4", size=(240, 320), rotation=rotation).path)
    assert facts.rotation == rotation
    assert (facts.width, facts.height) == (240, 320)
    swapped = rotation in (90, 270)
    assert (facts.coded_width, facts.coded_height) == ((320, 240) if swapped else (240, 320))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(EmptyFileError, match=r"^the file is empty \(0 bytes\)$"):
        probe(_write(tmp_path / "empty.mp4", b""))


def test_random_bytes_are_not_a_video(tmp_path):
    noise = np.random.default_rng(7).bytes(200_000)
    with pytest.raises(NotAVideoError, match=r"^not a video file: no known media container"):
        probe(_write(tmp_path / "noise.mp4", noise))


@pytest.mark.parametrize("name", ["notes.mp4", "notes.txt", "readme.nfo"])
def test_text_file_is_not_a_video(tmp_path, name):
    """Named .txt, FFmpeg would draw it as ANSI art (its tty demuxer): still not a video."""
    with pytest.raises(NotAVideoError, match=r"^not a video file"):
        probe(_write(tmp_path / name, b"just some text\n" * 100))


def test_still_image_is_not_a_video(tmp_path):
    ok, png = cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))
    assert ok
    with pytest.raises(NotAVideoError, match=r"^a still image \(png_pipe\), not a video$"):
        probe(_write(tmp_path / "picture.mp4", png.tobytes()))


def test_audio_only_file_has_no_video_stream(tmp_path):
    write_audio_only(tmp_path / "song.m4a")
    with pytest.raises(
        NoVideoStreamError, match=r"^no video stream: the file holds only audio \(aac\)$"
    ):
        probe(tmp_path / "song.m4a")


def test_truncated_mp4_is_a_damaged_container(make_clip, tmp_path):
    whole = make_clip("to-truncate.mp4", seconds=3).path.read_bytes()
    truncated = _write(tmp_path / "truncated.mp4", whole[: len(whole) // 2])
    with pytest.raises(
        CorruptVideoError, match=r"^the MP4/QuickTime container is damaged or truncated \("
    ):
        probe(truncated)


def test_every_rejection_is_a_video_error():
    for error in (EmptyFileError, NotAVideoError, NoVideoStreamError, CorruptVideoError):
        assert issubclass(error, VideoError)


def test_missing_file_is_not_a_video_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nowhere.mp4")
