"""Convert user images (numpy, PIL, torch, paths) to a CPU float batch and back to the same kind.

This is the only place that knows about PIL and numpy layouts; models only see tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from derain.data.io import read_image

__all__ = ["ImageLike", "Restore", "to_batch"]

#: What :class:`derain.api.Derainer` accepts.
ImageLike = np.ndarray | Image.Image | torch.Tensor | str | Path
#: Turns a derained CPU float32 ``(B, 3, H, W)`` batch back into the caller's kind of image.
Restore = Callable[[torch.Tensor], Any]

_INT_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def to_batch(image: ImageLike) -> tuple[torch.Tensor, Restore]:
    """Return a CPU float32 ``(B, 3, H, W)`` batch in [0, 1] and the function that restores the kind.

    Raises:
        TypeError: unsupported image type or dtype.
        ValueError: wrong shape (numpy must be ``(H, W, 3)``; tensors ``(3, H, W)`` or ``(B, 3, H, W)``).
        ImageReadError: a path that cannot be read.
    """
    if isinstance(image, np.ndarray):
        return _from_numpy(image)
    if isinstance(image, Image.Image):
        return _from_pil(image)
    if isinstance(image, torch.Tensor):
        return _from_torch(image)
    if isinstance(image, (str, Path)):
        x, _ = _from_numpy(read_image(image).rgb)
        return x, lambda y: _hwc(y[0])
    raise TypeError(f"cannot derain a {type(image).__name__}; pass a numpy array, PIL image, tensor or path")


def _hwc(chw: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(chw.permute(1, 2, 0).numpy(), dtype=np.float32)


def _from_numpy(array: np.ndarray) -> tuple[torch.Tensor, Restore]:
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"numpy images must be (H, W, 3) RGB, got shape {array.shape}")
    dtype = array.dtype
    if dtype in _INT_MAX:
        scale = _INT_MAX[dtype]
        x = torch.from_numpy(array.astype(np.float32) / scale).permute(2, 0, 1)[None]
        return x, lambda y: np.round(_hwc(y[0]).clip(0.0, 1.0) * scale).astype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"numpy images must be float (in [0, 1]), uint8 or uint16, got {dtype}")
    x = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)[None]
    return x, lambda y: _hwc(y[0]).astype(dtype, copy=False)


def _from_pil(image: Image.Image) -> tuple[torch.Tensor, Restore]:
    """RGB in, RGB out; an alpha band is passed through unchanged."""
    alpha = image.getchannel("A") if "A" in image.getbands() else None
    x, restore = _from_numpy(np.asarray(image.convert("RGB")))

    def to_pil(y: torch.Tensor) -> Image.Image:
        out = Image.fromarray(restore(y))
        if alpha is not None:
            out.putalpha(alpha)
        return out

    return x, to_pil


def _from_torch(tensor: torch.Tensor) -> tuple[torch.Tensor, Restore]:
    """``(3, H, W)`` or ``(B, 3, H, W)``; the result has the input's shape, dtype and device."""
    if tensor.ndim not in (3, 4) or tensor.shape[-3] != 3:
        raise ValueError(f"tensors must be (3, H, W) or (B, 3, H, W), got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise TypeError(f"tensors must be floating point in [0, 1], got {tensor.dtype}")
    x = tensor.detach().to("cpu", torch.float32).reshape(-1, *tensor.shape[-3:])
    return x, lambda y: y.reshape(tensor.shape).to(tensor.device, tensor.dtype)
