"""The numpy <-> tensor layout change and downscale-to-fit, in one place.

Images in memory are numpy ``(H, W, 3)`` float32 in [0, 1] (uint8 where a cache keeps them small);
models see tensors ``(3, H, W)``. Every conversion goes through :func:`to_chw` and :func:`to_hwc`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

__all__ = ["fit_within", "to_chw", "to_float", "to_hwc"]


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1] (times 1/255); float arrays become float32 without a copy where possible."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1 / 255)
    return image.astype(np.float32, copy=False)


def to_chw(images: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
    """``(H, W, 3)`` -> ``(3, H, W)``, or a sequence of them -> ``(T, 3, H, W)``; contiguous float32."""
    array = to_float(np.asarray(images))
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, -3)))


def to_hwc(tensor: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` (any device or float dtype) -> contiguous float32 numpy ``(H, W, 3)``."""
    return np.ascontiguousarray(tensor.detach().float().cpu().permute(1, 2, 0).numpy())


def fit_within(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale (area filter) so the longer side is at most ``max_side``; never enlarges (None: as is)."""
    h, w = rgb.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return rgb
    scale = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
