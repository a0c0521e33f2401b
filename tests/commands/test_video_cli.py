"""``derain video`` through the real CLI on a real small mp4 and on frame folders."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import smooth_image
from derain.checkpoint import save_weights
from derain.data.io import VideoWriter, open_video
from derain.models import build_model

TINY = {"channels": (4, 8), "bottleneck_blocks": 1}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    return save_weights(build_model("baseline", TINY), path, model_name="baseline", config=TINY)


@pytest.fixture
def clip(tmp_path):
    """5 frames of 48x32 at 12 fps, H.264."""
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, 12) as writer:
        for i in range(5):
            writer.write(smooth_image(32, 48, seed=i))
    return path


def derain_video(*args):
    cmd = [sys.executable, "-m", "derain", "video", *map(str, args), "--device", "cpu"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _frames(path):
    info, frames = open_video(path)
    return info, list(frames)


def test_mp4_keeps_fps_size_and_frame_count(clip, weights, tmp_path):
    out = tmp_path / "out.mp4"
    result = derain_video(clip, "-o", out, "--weights", weights)
    assert result.returncode == 0, result.stderr
    info, frames = _frames(out)
    assert (info.fps, info.width, info.height, len(frames)) == (12.0, 48, 32, 5)
    assert "5 frame(s)" in result.stdout


def test_frame_folder_output_and_overwrite_refused(clip, weights, tmp_path):
    out = tmp_path / "frames"
    assert derain_video(clip, "-o", out, "--weights", weights).returncode == 0
    info, frames = _frames(out)
    assert (info.fps, len(frames), frames[0].shape) == (12.0, 5, (32, 48, 3))
    again = derain_video(clip, "-o", out, "--weights", weights)
    assert again.returncode == 2 and "already exists" in again.stderr
    onto_input = derain_video(clip, "-o", clip, "--weights", weights, "--overwrite")
    assert onto_input.returncode == 2 and "would overwrite the input" in onto_input.stderr
