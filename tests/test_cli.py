"""`frameforge extract` as a user meets it: exit codes, one-line errors, progress on a terminal."""

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import zipfile

import pytest

from frameforge.cli import main
from frameforge_pipeline.engine.archive import zip_problems

CLI = [sys.executable, "-m", "frameforge.cli"]


def test_extract_writes_a_zip_and_prints_json(make_clip, tmp_path, capsys):
    clip = make_clip("cfr.mp4", seconds=5)
    out = tmp_path / "frames.zip"
    assert main(["extract", str(clip.path), "-o", str(out), "--fps", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 10
    assert summary["zipBytes"] == out.stat().st_size
    with out.open("rb") as stream:
        assert zip_problems(stream) == []
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["options"]["fps"] == 2
    assert manifest["video"]["codec"] == "h264"
    assert [f["timestamp_ms"] for f in manifest["frames"]] == [i * 500 for i in range(10)]


def test_quiet_when_not_a_terminal(make_clip, tmp_path, capsys):
    clip = make_clip("cfr.mp4", seconds=5)
    assert main(["extract", str(clip.path), "-o", str(tmp_path / "f.zip")]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["--start", "40"], "no frame in the window: it starts at 40 s, after the end of the "
         "video (5.0 s)"),
        (["--start", "1.2", "--end", "1.8", "--mode", "keyframes"],
         "no frame in the window from 1.2 s to 1.8 s (keyframes mode)"),
    ],
)  # fmt: skip
def test_a_window_that_holds_no_frame_exits_2_with_one_line(
    make_clip, tmp_path, capsys, window, message
):
    clip = make_clip("cfr.mp4", seconds=5)
    out = tmp_path / "out.zip"
    assert main(["extract", str(clip.path), "-o", str(out), *window]) == 2
    assert capsys.readouterr().err == f"frameforge: {clip.path}: {message}\n"
    assert list(tmp_path.iterdir()) == []  # no empty ZIP, no partial file


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty (0 bytes)"),
        (b"<html>not a video</html>" * 50, "not a video file: no known media container was found"),
    ],
)
def test_rejected_video_exits_2_with_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "upload.mp4"
    bad.write_bytes(content)
    out = tmp_path / "out.zip"
    assert main(["extract", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"frameforge: {bad}: {message}\n"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no partial file left behind


def test_invalid_options_exit_2(make_clip, tmp_path, capsys):
    clip = make_clip("cfr.mp4", seconds=5)
    code = main(["extract", str(clip.path), "-o", str(tmp_path / "o.zip"), "--fps", "500"])
    assert code == 2
    assert capsys.readouterr().err == (
        "frameforge: invalid options: fps: Input should be less than or equal to 120\n"
    )


def test_missing_video_exit_2(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.zip")]) == 2
    assert capsys.readouterr().err.endswith("nope.mp4: no such file\n")


def test_rejection_from_a_real_process_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 64)  # a Matroska header and nothing else
    done = subprocess.run(
        [*CLI, "extract", str(bad), "-o", "x.zip"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"frameforge: {bad}: the Matroska/WebM container is damaged")


def test_progress_and_summary_on_a_terminal(make_clip, tmp_path):
    clip = make_clip("long-gop.mp4", seconds=12, gop=250)
    out = tmp_path / "frames.zip"
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 columns
    process = subprocess.Popen(
        [*CLI, "extract", str(clip.path), "-o", str(out)],
        stderr=follower,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "TQDM_MININTERVAL": "0"},  # draw every update, however fast
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait() == 0
    text = screen.decode()
    assert "/12" in text
    assert "frame/s" in text
    summary = text.strip().splitlines()[-1].split("\r")[-1]
    assert summary.startswith("12 frames (320x240 jpg) from 12.0 s of video in ")
    assert summary.endswith(f"-> {out} ({out.stat().st_size / 1e6:.1f} MB)")


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("wide-8200.mp4", (8200, 64), "larger than the limit of 8192 pixels a side"),
        ("square-6000.mp4", (6000, 6000), "(36.0 megapixels), more than the limit of 35.4"),
    ],
)
def test_a_picture_over_the_limits_exits_2_with_its_size(
    make_clip, tmp_path, capsys, name, size, message
):
    clip = make_clip(name, size=size, seconds=1, fps=1)
    out = tmp_path / "out.zip"
    assert main(["extract", str(clip.path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"frameforge: {clip.path}: the picture is {size[0]}x{size[1]} pixels")
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_the_picture_limit_is_the_operators_to_change(make_clip, tmp_path, capsys, monkeypatch):
    clip = make_clip("wide-8200.mp4", size=(8200, 64), seconds=1, fps=1)
    monkeypatch.setenv("FRAMEFORGE_MAX_PICTURE_SIDE", "8200")
    assert main(["extract", str(clip.path), "-o", str(tmp_path / "o.zip"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 1


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal's width


def test_the_help_reads_as_text_and_every_command_says_what_it_does(capsys):
    top = _help(capsys)
    assert "``" not in top  # no RST left in what a terminal shows
    assert "FrameForge turns videos into frames." in top
    for command in ("extract", "demo", "up", "worker", "migrate", "query"):
        text = _help(capsys, command)
        description = text.split(" options: ")[0].split("]", 1)[-1]
        assert len(description.split()) >= 15, (command, text)  # a sentence or more
    up = _help(capsys, "up")
    for option, default in [("--api-port", 8000), ("--dagster-port", 3000),
                            ("--host", "127.0.0.1")]:  # fmt: skip
        assert f"(default: {default})" in up.split(option, 2)[2].split(" --")[0], option
    assert "logs/" in up
    assert "./.frameforge-demo" in _help(capsys, "demo")
