"""``derain video`` through the real CLI on a real small mp4 and on frame folders."""

from __future__ import annotations

import pytest

from conftest import run_cli, smooth_image
from derain.data.video import VideoWriter, open_video


@pytest.fixture
def clip(tmp_path):
    """5 frames of 48x32 at 12 fps, H.264."""
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, 12) as writer:
        for i in range(5):
            writer.write(smooth_image(32, 48, seed=i))
    return path


def _frames(path):
    info, frames = open_video(path)
    return info, list(frames)


def test_mp4_keeps_fps_size_and_frame_count(clip, tiny_weights, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli("video", clip, "-o", out, "--weights", tiny_weights, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    info, frames = _frames(out)
    assert (info.fps, info.width, info.height, len(frames)) == (12.0, 48, 32, 5)
    assert "5 frame(s)" in result.stdout


def test_x264_preset_is_used_and_an_unknown_one_refused(clip, tiny_weights, tmp_path):
    import av

    out = tmp_path / "fast.mp4"
    args = ("video", clip, "-o", out, "--weights", tiny_weights, "--device", "cpu")
    result = run_cli(*args, "--x264-preset", "ultrafast")
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:  # x264 writes its settings into the stream
        assert b"cabac=0" in bytes(next(container.demux(video=0)))  # ultrafast turns CABAC off; faster keeps it
    bad = run_cli(*args, "--x264-preset", "warp", "--overwrite")
    assert bad.returncode == 2 and "warp" in bad.stderr


def test_frame_folder_output_and_overwrite_refused(clip, tiny_weights, tmp_path):
    out = tmp_path / "frames"
    assert run_cli("video", clip, "-o", out, "--weights", tiny_weights, "--device", "cpu").returncode == 0
    info, frames = _frames(out)
    assert (info.fps, len(frames), frames[0].shape) == (12.0, 5, (32, 48, 3))
    again = run_cli("video", clip, "-o", out, "--weights", tiny_weights, "--device", "cpu")
    assert again.returncode == 2 and "already exists" in again.stderr
    onto_input = run_cli("video", clip, "-o", clip, "--weights", tiny_weights, "--overwrite", "--device", "cpu")
    assert onto_input.returncode == 2 and "would overwrite the input" in onto_input.stderr
