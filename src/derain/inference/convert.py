"""Convert user images (numpy, PIL, torch, paths) to a CPU float batch and back to the same kind.

This is the only place that knows about PIL and numpy layouts; models only see tensors. The value
rule: float input must be finite and in [0, 1] (up to :data:`FLOAT_SLACK`, e.g. a model's own
output fed back), integers are scaled by their type's maximum (uint8: 255, uint16: 65535);
anything else is an :class:`~derain.errors.ImageValueError` naming the problem, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from derain.data.io import read_image
from derain.errors import ImageValueError

__all__ = ["FLOAT_SLACK", "ImageLike", "Restore", "to_batch"]

#: Float input may overshoot [0, 1] by this much (derained outputs are not clipped); more is an error.
FLOAT_SLACK = 0.01

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
        ImageValueError: an empty image, NaN/inf, or float values outside [0, 1] (a ValueError too).
        ImageReadError: a path that cannot be read.
    """
    if isinstance(image, np.ndarray):
        x, restore = _from_numpy(image)
    elif isinstance(image, Image.Image):
        x, restore = _from_pil(image)
    elif isinstance(image, torch.Tensor):
        x, restore = _from_torch(image)
    elif isinstance(image, (str, Path)):
        x, _ = _from_numpy(read_image(image).rgb)
        return x, lambda y: _hwc(y[0])
    else:
        raise TypeError(f"cannot derain a {type(image).__name__}; pass a numpy array, PIL image, tensor or path")
    _check_values(x, type(image).__name__)
    return x, restore


def _check_values(x: torch.Tensor, kind: str) -> None:
    """The value rule of this module, checked once on the converted batch."""
    if x.numel() == 0:
        raise ImageValueError(f"{kind} image is empty ({x.shape[-1]}x{x.shape[-2]} pixels)")
    if not bool(torch.isfinite(x).all()):
        raise ImageValueError(f"{kind} image holds NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < -FLOAT_SLACK or hi > 1 + FLOAT_SLACK:
        hint = " (divide 8-bit values by 255, or pass a uint8 array)" if hi <= 255 else ""
        raise ImageValueError(f"{kind} image values span {lo:g}..{hi:g}; float images must be in [0, 1]{hint}")


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
    """RGB in, RGB out; an alpha band is passed through unchanged; wide gray modes stay gray.

    16-bit (``I;16``), 32-bit integer (``I``, read as 16-bit) and float (``F``, in [0, 1]) gray
    images are converted without Pillow's 8-bit clipping and come back in their own mode as the
    BT.601 luma of the result.
    """
    if image.mode == "F" or image.mode.startswith("I"):
        return _from_wide_gray(image)
    alpha = image.getchannel("A") if "A" in image.getbands() else None
    x, restore = _from_numpy(np.asarray(image.convert("RGB")))

    def to_pil(y: torch.Tensor) -> Image.Image:
        out = Image.fromarray(restore(y))
        if alpha is not None:
            out.putalpha(alpha)
        return out

    return x, to_pil


_LUMA = torch.tensor([0.299, 0.587, 0.114])


def _from_wide_gray(image: Image.Image) -> tuple[torch.Tensor, Restore]:
    gray = np.asarray(image)
    if image.mode == "F":
        scale, dtype = 1.0, np.float32
    else:
        lo, hi = (int(gray.min()), int(gray.max())) if gray.size else (0, 0)
        if lo < 0 or hi > 65535:
            raise ImageValueError(f"PIL {image.mode} image values span {lo}..{hi}, outside the 16-bit range 0..65535")
        scale, dtype = 65535.0, gray.dtype
    x = torch.from_numpy(gray.astype(np.float32) / scale)[None, None].expand(1, 3, *gray.shape).contiguous()

    def to_pil(y: torch.Tensor) -> Image.Image:
        luma = torch.einsum("chw,c->hw", y[0], _LUMA).numpy()
        if scale != 1.0:
            luma = np.round(luma.clip(0.0, 1.0) * scale)
        return Image.fromarray(luma.astype(dtype))  # float32 -> F, int32 -> I, uint16 -> I;16

    return x, to_pil


def _from_torch(tensor: torch.Tensor) -> tuple[torch.Tensor, Restore]:
    """``(3, H, W)`` or ``(B, 3, H, W)``; the result has the input's shape, dtype and device."""
    if tensor.ndim not in (3, 4) or tensor.shape[-3] != 3:
        raise ValueError(f"tensors must be (3, H, W) or (B, 3, H, W), got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise TypeError(f"tensors must be floating point in [0, 1], got {tensor.dtype}")
    if tensor.numel() == 0:
        raise ImageValueError(f"Tensor image is empty (shape {tuple(tensor.shape)})")
    x = tensor.detach().to("cpu", torch.float32).reshape(-1, *tensor.shape[-3:])
    return x, lambda y: y.reshape(tensor.shape).to(tensor.device, tensor.dtype)
