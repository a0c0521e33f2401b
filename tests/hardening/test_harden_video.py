"""Issue #10, defects 5 and 9: ``derain video`` writes atomically and says what it cannot keep."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_cli, smooth_image
from derain.data.io import list_images, write_image
from derain.outputs import MARKER


def _mp4(path: Path, n: int = 12, *, audio: bool = False, vfr: bool = False, faststart: bool = False) -> Path:
    """A tiny H.264 clip; ``vfr`` spaces frames 1 and 3 ticks apart, ``audio`` adds a silent AAC track."""
    options = {"movflags": "faststart"} if faststart else {}
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream("libx264", rate=10)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        video.codec_context.max_b_frames = 0
        sound = container.add_stream("aac", rate=8000) if audio else None  # declared before the first packet
        pts = 0
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), format="rgb24")
            frame.pts = pts
            pts += 3 if vfr and i % 2 == 0 else 1
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            for k in range(12):
                chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 8000, k * 1024
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return path


def _stream_types(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [s.type for s in container.streams]


def test_a_failed_frame_folder_output_leaves_nothing_and_a_rerun_works(tmp_path: Path, tiny_weights: Path) -> None:
    frames = tmp_path / "in"
    for i in range(4):
        write_image(frames / f"{i}.png", smooth_image(16, 16, seed=i))
    (frames / "2.png").write_bytes((frames / "2.png").read_bytes()[:40])  # truncated frame
    out = tmp_path / "out"
    done = run_cli("video", frames, "-o", out, "--weights", tiny_weights)
    assert done.returncode == 2 and "2.png" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no partial folder, no fps.txt, no temp
    write_image(frames / "2.png", smooth_image(16, 16, seed=2))
    assert run_cli("video", frames, "-o", out, "--weights", tiny_weights).returncode == 0
    assert len(list_images(out)) == 4 and (out / MARKER).is_file()
    done = run_cli("video", frames, "-o", out, "--weights", tiny_weights, "--overwrite")
    assert done.returncode == 0, done.stderr
    (out / "mine.txt").write_text("user file")
    done = run_cli("video", frames, "-o", out, "--weights", tiny_weights, "--overwrite")
    assert done.returncode == 2 and "mine.txt" in done.stderr and (out / "mine.txt").is_file()


def test_truncated_mp4_warns_with_the_count(tmp_path: Path, tiny_weights: Path) -> None:
    whole = _mp4(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    done = run_cli("video", cut, "-o", tmp_path / "out.mp4", "--weights", tiny_weights)
    assert done.returncode == 1, done.stderr
    warning = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and str(cut) in warning[0] and "of the 12 frames" in warning[0]


def test_audio_is_copied_into_a_video_file_and_named_for_a_frame_folder(tmp_path: Path, tiny_weights: Path) -> None:
    clip = _mp4(tmp_path / "talk.mp4", audio=True)
    assert _stream_types(clip) == ["video", "audio"]
    done = run_cli("video", clip, "-o", tmp_path / "out.mp4", "--weights", tiny_weights)
    assert done.returncode == 0, done.stderr
    assert _stream_types(tmp_path / "out.mp4") == ["video", "audio"]
    done = run_cli("video", clip, "-o", tmp_path / "frames", "--weights", tiny_weights)
    assert done.returncode == 0 and "audio track" in done.stderr and "video only" in done.stderr


def test_variable_frame_rate_is_stated(tmp_path: Path, tiny_weights: Path) -> None:
    done = run_cli("video", _mp4(tmp_path / "vfr.mp4", vfr=True), "-o", tmp_path / "o.mp4", "--weights", tiny_weights)
    assert done.returncode == 0 and "variable frame rate" in done.stderr
    done = run_cli("video", _mp4(tmp_path / "cfr.mp4"), "-o", tmp_path / "c.mp4", "--weights", tiny_weights)
    assert done.returncode == 0 and "variable" not in done.stderr


@pytest.mark.parametrize("name", ["clean.avi", "clean.gif", "clean.png"])
def test_an_unwritable_suffix_is_refused_not_a_folder(tmp_path: Path, tiny_weights: Path, name: str) -> None:
    done = run_cli("video", _mp4(tmp_path / "in.mp4", n=3), "-o", tmp_path / name, "--weights", tiny_weights)
    assert done.returncode == 2 and "cannot write" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / name).exists()
