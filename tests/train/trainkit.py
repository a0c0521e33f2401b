"""Helpers for tiny real runs: a paired folder of small PNGs and a small U-Net config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from conftest import smooth_image
from derain.data.io import write_image


def write_pairs(root: Path, count: int, size: int = 32) -> Path:
    """``root/rain`` + ``root/clean`` with ``count`` smooth images and sparse bright 'streaks'."""
    rng = np.random.default_rng(1)
    for i in range(count):
        clean = smooth_image(size, size, seed=i)
        rain = np.clip(clean + 0.4 * (rng.random(clean.shape[:2]) > 0.92)[..., None], 0, 1)
        write_image(root / "clean" / f"{i:03d}.png", clean)
        write_image(root / "rain" / f"{i:03d}.png", rain.astype(np.float32))
    return root


def tiny_config(pairs_root: Path, run_dir: Path, **train: Any) -> dict[str, Any]:
    """A raw config dict training a 2-level U-Net on ``pairs_root``, validating on it, exporting to ``run_dir``."""
    return {
        "model": {"name": "baseline", "config": {"channels": [4, 8], "bottleneck_blocks": 1}},
        "objective": {"name": "supervised", "options": {"ssim_weight": 0.1}},
        "data": {"kind": "paired_folder", "options": {"root": str(pairs_root), "crop": 24, "flip": True}},
        "val": {"path": str(pairs_root), "every": 3, "max_images": 2},
        "train": {"steps": 6, "batch_size": 2, "lr": "1e-3", "log_every": 1, "ckpt_every": 3, "device": "cpu"} | train,
        "output": {
            "dir": str(run_dir),
            "export": {
                "path": str(run_dir.parent / "out.safetensors"),
                "name": "tiny",
                "manifest": str(run_dir.parent / "manifest.json"),
            },
        },
    }


def save_yaml(raw: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path
