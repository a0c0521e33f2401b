"""Validation during training, through the inference engine (the code ``derain run`` uses).

Scores are what a user would get: the model runs tiled as its policy says, and outputs are quantised
to 8 bits like saved PNGs before Y-channel PSNR/SSIM. Image models score a paired folder
(``rain/`` + ``clean/``). Video models score clips -- a folder with ``rain/`` + ``clean/`` frame
folders, or a folder of such clips -- in frame order, with the recurrent state carried from frame to
frame and a fresh state per clip, exactly as ``derain video`` streams them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from derain.errors import ConfigError
from derain.inference import Engine, make_step, to_batch
from derain.inference.engine import Step
from derain.models import DerainModel

__all__ = ["find_clips", "validate"]


def find_clips(folder: str | Path) -> list[tuple[Path, Path]]:
    """``(rain_dir, clean_dir)`` of each clip: ``folder`` itself if it is one, else its sub-folders that are.

    Raises:
        ConfigError: no clip with a paired layout under ``folder``.
    """
    from derain.data.pairing import find_paired_layout
    from derain.errors import DerainError

    folder = Path(folder)
    candidates = [folder] if (folder / "rain").is_dir() else sorted(p for p in folder.iterdir() if p.is_dir())
    clips = []
    for candidate in candidates:
        try:
            clips.append(find_paired_layout(candidate))
        except DerainError:
            continue
    if not clips:
        raise ConfigError(f"val.path: {folder} holds no clip (expected rain/ + clean/ frame folders)")
    return [(Path(rain), Path(clean)) for rain, clean in clips]


@torch.no_grad()
def validate(model: DerainModel, folder: str | Path, engine: Engine, max_images: int | None) -> dict[str, float]:
    """Mean Y-channel PSNR/SSIM of ``model`` on ``folder`` (video models: every frame of every clip).

    ``max_images`` caps the images (video: the frames of each clip, counted from its start).
    """
    from derain.data.pairing import find_paired_layout, pair_folders

    layouts = find_clips(folder) if model.is_video else [find_paired_layout(folder)]
    was_training = model.training
    model.eval()
    psnrs, ssims = [], []
    try:
        for rain_dir, clean_dir in layouts:
            step = make_step(model)  # one clip: one carried state (image models: no state)
            for rain_path, clean_path in pair_folders(rain_dir, clean_dir)[:max_images]:
                psnr, ssim = _score(engine, step, rain_path, clean_path)
                psnrs.append(psnr)
                ssims.append(ssim)
    finally:
        model.train(was_training)
    return {"psnr_y": float(np.mean(psnrs)), "ssim_y": float(np.mean(ssims)), "count": len(psnrs)}


def _score(engine: Engine, step: Step, rain_path: Path, clean_path: Path) -> tuple[float, float]:
    from derain.eval.metrics import psnr_pt, ssim_pt

    x, _ = to_batch(rain_path)
    clean, _ = to_batch(clean_path)
    out = engine.run(step, x)
    return float(psnr_pt(out, clean, quantize=True)[0]), float(ssim_pt(out, clean, quantize=True)[0])
