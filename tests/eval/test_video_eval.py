"""Video scores: per-frame PSNR/SSIM and flicker on crafted clips, and ``derain bench --video`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from conftest import run_cli, smooth_image
from derain.checkpoint import save_weights
from derain.data.io import write_image
from derain.eval.video import CLEAN, FLICKER, score_video_set
from derain.models import build_model


def _static_clip(root: Path, n: int = 4) -> list[np.ndarray]:
    """A still scene (every clean frame equal) with new rain each frame; returns the rainy frames."""
    clean = np.round(smooth_image(20, 28) * 255) / 255
    rains = []
    for i in range(n):
        rain = clean.copy()
        rain[2 + 3 * i : 4 + 3 * i, :] = 1.0  # a bright band in a new place each frame
        write_image(root / "clean" / f"{i:03d}.png", clean)
        write_image(root / "rain" / f"{i:03d}.png", rain)
        rains.append(rain)
    return rains


def test_flicker_and_per_frame_scores_on_a_still_scene(tmp_path: Path) -> None:
    _static_clip(tmp_path)
    clean = np.round(smooth_image(20, 28) * 255) / 255
    perfect = ("perfect", lambda frames: (clean for _ in frames))
    grey = ("grey", lambda frames: (np.full_like(f, 0.5) for f in frames))
    result = score_video_set(tmp_path, [perfect, grey])
    mean = result["mean"]
    assert result["count"] == 4 and mean[CLEAN][FLICKER] == 0.0
    assert mean["perfect"][FLICKER] == 0.0 and mean["perfect"]["psnr_y"] == float("inf")
    assert mean["grey"][FLICKER] == 0.0 and mean["grey"]["psnr_y"] < 25  # steady but wrong
    # identity: each step the band moves, so two 2-row bands (4 of 20 rows) change by |Y(1) - Y(clean)|
    assert mean["identity"][FLICKER] > 5.0
    assert len(result["per_frame"]["identity"]) == 4


def test_bench_video_scores_image_and_video_models(tmp_path: Path, tiny_weights: Path) -> None:
    _static_clip(tmp_path / "clip")
    torch.manual_seed(0)
    j4r = save_weights(build_model("j4r", {"channels": 4, "blocks": 1}), tmp_path / "j.safetensors", model_name="j4r",
                       config={"channels": 4, "blocks": 1})  # fmt: skip
    out = tmp_path / "report"
    done = run_cli(
        "bench", "--weights", f"img={tiny_weights}", "--weights", f"vid={j4r}", "--video", tmp_path / "clip",
        "--out", out, "--device", "cpu", "--cost-size", "32", "--cost-runs", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    video = json.loads((out / "report.json").read_text())["video"][0]
    assert set(video["mean"]) == {"identity", "img", "vid", CLEAN}
    # a fresh j4r is the identity (its JRC head starts at zero), so it scores exactly as the input
    assert video["mean"]["vid"]["psnr_y"] == video["mean"]["identity"]["psnr_y"]
    assert "flicker" in (out / "report.md").read_text()
