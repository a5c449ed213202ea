"""Storyboards: sprite sheets whose tiles are the frames, and a WebVTT file that says so."""

import json
import re
import zipfile

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge.extract import extract_to_zip
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.records import FrameRecord
from frameforge_pipeline.engine.storyboard import (
    StoryboardBuilder,
    TeeSink,
    end_ms,
    vtt_time,
)
from frameforge_pipeline.engine.storyboard_names import with_sheet_urls
from tests.sample_clips import read_index

CUE = re.compile(
    r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n"
    r"(sheet_\d{3,}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$",
    re.MULTILINE,
)


def parse_vtt(text: str) -> list[tuple[float, float, str, tuple[int, int, int, int]]]:
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for m in CUE.finditer(text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in m.groups()[:8])
        begin = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
        cues.append((begin, end, m[9], tuple(int(g) for g in m.groups()[9:])))
    assert len(cues) == text.count("-->")
    return cues


class Files:
    def __init__(self):
        self.saved: dict[str, bytes] = {}

    def __call__(self, name: str, data: bytes) -> None:
        self.saved[name] = data


def test_tiles_show_the_frames_and_cues_cover_the_video(make_clip, collector):
    clip = make_clip("cfr10.mp4", seconds=10)
    options = ExtractOptions(storyboard=True, storyboard_columns=3, storyboard_rows=2)
    files = Files()
    builder = StoryboardBuilder(options, files)
    result = extract(clip.path, options, TeeSink(collector, builder))
    board = builder.finish(end_ms(result))

    assert (board.tile_width, board.tile_height, board.tiles) == (160, 120, 10)
    assert sorted(files.saved) == ["sheet_000.jpg", "sheet_001.jpg", "storyboard.vtt"]
    assert [f.file for f in board.files] == [
        "storyboard/sheet_000.jpg", "storyboard/sheet_001.jpg", "storyboard/storyboard.vtt"
    ]  # fmt: skip
    sheets = {
        name: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        for name, data in files.saved.items()
        if name.endswith(".jpg")
    }
    assert sheets["sheet_000.jpg"].shape == (240, 480, 3)  # 3 x 2 tiles
    assert sheets["sheet_001.jpg"].shape == (240, 480, 3)  # 4 tiles left: 2 rows of 3

    cues = parse_vtt(files.saved["storyboard.vtt"].decode())
    assert [c[0] for c in cues] == [r.timestamp_ms for r in result.frames]
    assert [c[1] for c in cues] == [*[r.timestamp_ms for r in result.frames[1:]], 10_000]
    for (_, _, sheet, (x, y, w, h)), source in zip(cues, collector.source_indices, strict=True):
        assert read_index(sheets[sheet][y : y + h, x : x + w]) == source


def test_the_zip_holds_the_storyboard_and_its_manifest_lists_it(make_clip, tmp_path):
    clip = make_clip("cfr10.mp4", seconds=10)
    output = tmp_path / "out.zip"
    extract_to_zip(clip.path, output, ExtractOptions(storyboard=True, storyboard_tile_width=64))
    with zipfile.ZipFile(output) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        vtt = archive.read("storyboard/storyboard.vtt").decode()
        names = archive.namelist()
    assert "storyboard/sheet_000.jpg" in names
    assert manifest["storyboard"]["tile_width"] == 64
    assert manifest["storyboard"]["tile_height"] == 48
    assert len(parse_vtt(vtt)) == len(manifest["frames"]) == 10
    assert zip_problems(output.open("rb")) == []


def test_a_zip_with_a_storyboard_file_not_in_its_manifest_is_a_problem(make_clip, tmp_path):
    clip = make_clip("cfr.mp4", seconds=5)
    output = tmp_path / "out.zip"
    extract_to_zip(clip.path, output, ExtractOptions(storyboard=True))
    with zipfile.ZipFile(output, "a") as archive:
        archive.writestr("storyboard/sheet_099.jpg", b"x")
    assert zip_problems(output.open("rb")) == [
        "storyboard/sheet_099.jpg is in the ZIP but not in the manifest"
    ]


def test_without_the_option_there_is_no_storyboard(make_clip, tmp_path):
    output = tmp_path / "out.zip"
    extract_to_zip(make_clip("cfr.mp4", seconds=5).path, output, ExtractOptions())
    with zipfile.ZipFile(output) as archive:
        assert json.loads(archive.read("manifest.json"))["storyboard"] is None
        assert not [n for n in archive.namelist() if n.startswith("storyboard/")]


_TINY = cv2.imencode(".jpg", np.zeros((90, 160, 3), np.uint8))[1].tobytes()


def record(index: int, timestamp_ms: float) -> FrameRecord:
    return FrameRecord(index, timestamp_ms, f"frame_{index:06d}.jpg", 1, 160, 90, "", "0", 0, 0)


@given(
    gaps=st.lists(st.integers(1, 5000), min_size=0, max_size=40),
    columns=st.integers(1, 6),
    rows=st.integers(1, 4),
    tail=st.integers(0, 3000),
)
def test_cues_are_contiguous_and_each_names_its_own_tile(gaps, columns, rows, tail):
    times = [float(sum(gaps[:i])) for i in range(len(gaps))]
    options = ExtractOptions(
        storyboard=True, storyboard_columns=columns, storyboard_rows=rows, storyboard_tile_width=32
    )
    files = Files()
    builder = StoryboardBuilder(options, files)
    for i, t in enumerate(times):
        builder.write(record(i, t), _TINY)
    end = (times[-1] if times else 0) + tail
    board = builder.finish(end)
    cues = parse_vtt(files.saved["storyboard.vtt"].decode())
    per_sheet = columns * rows
    assert len(cues) == len(times) == board.tiles
    assert len(board.files) == -(-len(times) // per_sheet) + 1  # sheets, then the VTT
    for i, (begin, finish, sheet, (x, y, w, h)) in enumerate(cues):
        assert begin == times[i]
        assert finish == (times[i + 1] if i + 1 < len(times) else max(end, times[i] + 1))
        assert sheet == f"sheet_{i // per_sheet:03d}.jpg"
        assert (x // w, y // h) == ((i % per_sheet) % columns, (i % per_sheet) // columns)
        assert (w, h) == (32, 18)


@given(st.floats(0, 360_000_000, allow_nan=False))
def test_vtt_times_read_back(ms):
    text = vtt_time(ms)
    h, m, s = text.split(":")
    assert abs(int(h) * 3_600_000 + int(m) * 60_000 + float(s) * 1000 - ms) <= 0.5 + 1e-6
    assert re.fullmatch(r"\d{2,}:\d\d:\d\d\.\d{3}", text)


def test_sheet_references_become_urls_and_nothing_else_changes():
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsheet_000.jpg#xywh=0,0,160,90\n"
    rewritten = with_sheet_urls(vtt, lambda name: f"https://x/{name}?sig=1")
    assert rewritten == vtt.replace("sheet_000.jpg", "https://x/sheet_000.jpg?sig=1")


@pytest.mark.parametrize(
    ("option", "bad"), [("storyboard_columns", 0), ("storyboard_tile_width", 8)]
)
def test_storyboard_sizes_are_checked(option, bad):
    with pytest.raises(ValueError, match=option):
        ExtractOptions(storyboard=True, **{option: bad})
