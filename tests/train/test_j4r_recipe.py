"""``configs/j4r.yaml`` through the real trainer: hybrid clips, eq. 15, truncated BPTT, clip validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from conftest import REPO, smooth_image
from derain.checkpoint import build_from_file
from derain.data.io import write_image
from derain.train.config import load_config
from derain.train.runlog import read_log
from derain.train.trainer import train


def test_recipe_trains_tiny_with_tbptt_and_validates_on_a_clip(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray((smooth_image(60, 60, seed=i) * 255).astype(np.uint8)).save(photos / f"p{i}.png")
    clip = tmp_path / "clip"
    for t in range(3):
        clean = smooth_image(20, 24, seed=t)
        write_image(clip / "clean" / f"{t:03d}.png", clean)
        write_image(clip / "rain" / f"{t:03d}.png", (0.8 * clean + 0.2).clip(0, 1))
    out = tmp_path / "j4r.safetensors"
    overrides = [
        "model.config={channels: 4, blocks: 0}",
        f"data.options.clean_dir={photos}",
        "data.options.exclude=[]",
        "data.options.crop=16",
        "data.options.frames=4",
        "data.options.length=4",
        f"val={{path: {clip}, every: 2}}",
        "train.steps=2",
        "train.batch_size=1",
        "train.tbptt=2",
        "train.warmup_steps=0",
        "train.log_every=1",
        f"output.dir={tmp_path / 'run'}",
        f"output.export.path={out}",
        f"output.export.manifest={tmp_path / 'manifest.json'}",
    ]
    config = load_config(REPO / "configs" / "j4r.yaml", overrides)
    assert (config.objective.name, config.data.kind, config.train.tbptt) == ("j4r", "hybrid_clips", 2)
    train(config, command="test")
    records = read_log(tmp_path / "run" / "log.jsonl")
    losses = [r for r in records if "loss" in r]
    assert [r["step"] for r in losses] == [1, 2]
    assert {"l_joint", "l_detect", "l_rect", "l_removal"} <= set(losses[0])
    val = [r["val"] for r in records if "val" in r][-1]
    assert val["count"] == 3 and val["psnr_y"] > 0
    name, model = build_from_file(out)
    assert name == "j4r" and model.is_video
