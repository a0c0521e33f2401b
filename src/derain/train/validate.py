"""Validation during training: mean Y-channel PSNR/SSIM on a paired folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from derain.models import DerainModel

__all__ = ["validate"]


@torch.no_grad()
def validate(model: DerainModel, folder: str | Path, device: torch.device, max_images: int | None) -> dict[str, float]:
    """Mean Y-channel PSNR/SSIM of ``model`` on a paired folder, outputs quantised to 8 bits like saved PNGs."""
    from derain.data.arrays import to_chw
    from derain.data.io import read_rgb
    from derain.data.pairing import find_paired_layout, pair_folders
    from derain.eval.metrics import psnr_pt, ssim_pt

    pairs = pair_folders(*find_paired_layout(folder))[:max_images]
    was_training = model.training
    model.eval()
    psnrs, ssims = [], []
    for rain_path, clean_path in pairs:
        rain = to_chw(read_rgb(rain_path))[None].to(device)
        clean = to_chw(read_rgb(clean_path))[None].to(device)
        out = model(rain).background.float()
        psnrs.append(float(psnr_pt(out, clean, quantize=True)[0]))
        ssims.append(float(ssim_pt(out, clean, quantize=True)[0]))
    model.train(was_training)
    return {"psnr_y": float(np.mean(psnrs)), "ssim_y": float(np.mean(ssims)), "count": len(pairs)}
