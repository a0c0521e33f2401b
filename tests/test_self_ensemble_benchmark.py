"""``benchmarks/self_ensemble.py`` through its command line: both modes scored as the API computes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import derain
from conftest import cli_env, smooth_image
from derain.data.io import read_rgb, write_image
from derain.eval.metrics import score_images

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "self_ensemble.py"


def test_scores_one_pass_and_the_mirrored_average(tmp_path: Path, tiny_weights: Path) -> None:
    for i in range(2):
        clean = smooth_image(24, 32, seed=i)
        write_image(tmp_path / "set1" / "clean" / f"{i}.png", clean)
        write_image(tmp_path / "set1" / "rain" / f"{i}.png", np.clip(clean + 0.15, 0, 1))
    done = subprocess.run(
        [sys.executable, SCRIPT, "--models", "", "--weights", f"mine={tiny_weights}", "--sets", tmp_path / "set1",
         "--runs", "1", "--out", tmp_path / "out"],
        capture_output=True, text=True, env=cli_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out" / "self_ensemble.json").read_text())["sets"]["set1"]["mine"]
    model = derain.load(tiny_weights, "cpu")
    plain, mirrored = [], []
    for i in range(2):
        rain, clean = (
            read_rgb(tmp_path / "set1" / "rain" / f"{i}.png"),
            read_rgb(tmp_path / "set1" / "clean" / f"{i}.png"),
        )
        one = model(rain)
        plain.append(score_images(one, clean, quantize=True)["psnr_y"])
        both = (one + model(rain[:, ::-1].copy())[:, ::-1]) / 2
        mirrored.append(score_images(both, clean, quantize=True)["psnr_y"])
    assert result["plain"]["psnr_y"] == np.float64(np.mean(plain)).item()
    assert abs(result["self_ensemble"]["psnr_y"] - np.mean(mirrored)) < 1e-3
    assert result["plain"]["psnr_y"] != result["self_ensemble"]["psnr_y"]
    assert "ms per 512²" in (tmp_path / "out" / "self_ensemble.md").read_text()
