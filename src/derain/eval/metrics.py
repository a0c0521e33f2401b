"""PSNR and SSIM exactly as the deraining literature reports them, in NumPy and in torch.

The field's numbers come from MATLAB scripts that read 8-bit PNGs, convert them with
``rgb2ycbcr`` and score the luma (Y) channel with Wang et al.'s Gaussian SSIM. This module
reproduces that protocol (see :data:`PROTOCOL`):

* **Y channel**: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for RGB in [0, 1] (ITU-R BT.601,
  MATLAB ``rgb2ycbcr``), kept in float64 and *not* rounded to integers. Rounding Y (as
  ``rgb2ycbcr`` on ``uint8`` input does) shifts SSIM by up to 6e-4 on the development sets and
  does not reproduce the published identity rows; the unrounded Y does.
* **Data range** 255 for Y, 1 for RGB (the same thing on a 0-255 scale).
* **SSIM**: 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, population (not sample)
  covariance, mean over the "valid" part of the SSIM map (5 px border excluded). This equals
  ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)``, which the NumPy version calls.
* **PSNR**: ``10 log10(range**2 / MSE)``; identical images give ``inf`` (not a warning, not a cap).
* **8-bit quantisation** is the caller's choice (``quantize=True``), off by default: files read
  from 8-bit PNG/JPEG are already quantised, and the torch versions must stay differentiable for
  losses. Pass ``quantize=True`` to score a model's float output as if it had been saved to an
  8-bit PNG (what the published tables did), e.g. in a benchmark that never writes files.

NumPy functions take ``(H, W, 3)`` float arrays and compute in float64. Torch functions take
``(B, 3, H, W)`` tensors, return one value per image ``(B,)``, compute in float64 for float64
input (float32 otherwise) and are differentiable, so ``1 - ssim_pt(x, y, y_channel=False)`` is an
SSIM loss on RGB with the same window.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

__all__ = [
    "METRIC_NAMES",
    "PROTOCOL",
    "SSIM_WINDOW",
    "psnr",
    "psnr_from_mse",
    "psnr_pt",
    "rgb_to_y",
    "rgb_to_y_pt",
    "score_images",
    "ssim",
    "ssim_pt",
]

#: One line naming the protocol, for every report and table.
PROTOCOL = (
    "PSNR/SSIM on Y (MATLAB rgb2ycbcr BT.601, unrounded), data range 255, "
    "SSIM gaussian 11x11 sigma 1.5 K1 0.01 K2 0.03; PSNR-RGB data range 1; per-image mean"
)
#: Keys of :func:`score_images`, in report order (also the manifest's ``dev_scores`` keys).
METRIC_NAMES = ("psnr_y", "ssim_y", "psnr_rgb")

_Y_OFFSET = 16.0
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03
#: SSIM window side; images (after ``crop_border``) must be at least this large.
SSIM_WINDOW = 11


# ----------------------------------------------------------------------------- NumPy


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma on the 16-235 scale (MATLAB ``rgb2ycbcr``), float64, unrounded.

    Args:
        rgb: ``(H, W, 3)`` RGB in [0, 1].

    Returns:
        ``(H, W)`` float64 Y in [16, 235].
    """
    return _Y_OFFSET + np.asarray(rgb, dtype=np.float64) @ np.array(_Y_WEIGHTS)


def psnr(
    pred: np.ndarray, target: np.ndarray, *, y_channel: bool = True, crop_border: int = 0, quantize: bool = False
) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` for identical images).

    Args:
        pred: ``(H, W, 3)`` float RGB in [0, 1] (the derained image).
        target: ``(H, W, 3)`` float RGB in [0, 1] (the clean image).
        y_channel: score the Y channel (data range 255) instead of RGB (data range 1).
        crop_border: pixels dropped from each side before scoring.
        quantize: round both images to 8 bits first (see the module docstring).

    Raises:
        ValueError: shapes differ, are not ``(H, W, 3)``, or the crop leaves nothing.
        TypeError: an input is not a float array.
    """
    x, y, data_range = _prepare(pred, target, y_channel=y_channel, crop_border=crop_border, quantize=quantize)
    return psnr_from_mse(float(np.mean((x - y) ** 2)), data_range)


def psnr_from_mse(mse: float, data_range: float = 255.0) -> float:
    """``10 log10(data_range**2 / mse)``, ``inf`` for 0: for errors pooled over masks or runs, not one image pair."""
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def ssim(
    pred: np.ndarray, target: np.ndarray, *, y_channel: bool = True, crop_border: int = 0, quantize: bool = False
) -> float:
    """Gaussian SSIM (mean over RGB channels when ``y_channel`` is False).

    Args:
        pred: ``(H, W, 3)`` float RGB in [0, 1].
        target: ``(H, W, 3)`` float RGB in [0, 1].
        y_channel: score the Y channel instead of each RGB channel.
        crop_border: pixels dropped from each side before scoring.
        quantize: round both images to 8 bits first.

    Raises:
        ValueError: shapes differ or are smaller than :data:`SSIM_WINDOW` after the crop.
        TypeError: an input is not a float array.
    """
    x, y, data_range = _prepare(pred, target, y_channel=y_channel, crop_border=crop_border, quantize=quantize)
    _check_window(x.shape[0], x.shape[1])
    return float(
        structural_similarity(
            x,
            y,
            gaussian_weights=True,
            sigma=_SIGMA,
            use_sample_covariance=False,
            data_range=data_range,
            K1=_K1,
            K2=_K2,
            channel_axis=None if y_channel else -1,
        )
    )


def score_images(
    pred: np.ndarray, target: np.ndarray, *, crop_border: int = 0, quantize: bool = False
) -> dict[str, float]:
    """All reported metrics for one pair, keyed by :data:`METRIC_NAMES`."""
    opts = {"crop_border": crop_border, "quantize": quantize}
    return {
        "psnr_y": psnr(pred, target, **opts),
        "ssim_y": ssim(pred, target, **opts),
        "psnr_rgb": psnr(pred, target, y_channel=False, **opts),
    }


def _prepare(
    pred: np.ndarray, target: np.ndarray, *, y_channel: bool, crop_border: int, quantize: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """Validate, crop, quantise and convert a pair; returns (x, y, data_range) in float64."""
    for arr in (pred, target):
        if not np.issubdtype(np.asarray(arr).dtype, np.floating):
            raise TypeError(f"expected float images in [0, 1], got dtype {np.asarray(arr).dtype}")
    _check_shapes(np.shape(pred), np.shape(target), channel_axis=-1, crop_border=crop_border)
    pair = []
    for arr in (pred, target):
        img = np.asarray(arr, dtype=np.float64)
        if crop_border:
            img = img[crop_border:-crop_border, crop_border:-crop_border]
        if quantize:
            img = np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0
        pair.append(rgb_to_y(img) if y_channel else img)
    return pair[0], pair[1], 255.0 if y_channel else 1.0


# ----------------------------------------------------------------------------- torch


def rgb_to_y_pt(rgb: torch.Tensor) -> torch.Tensor:
    """Torch :func:`rgb_to_y`: ``(B, 3, H, W)`` in [0, 1] -> ``(B, 1, H, W)`` in [16, 235]."""
    weights = torch.tensor(_Y_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return _Y_OFFSET + (rgb * weights).sum(dim=1, keepdim=True)


def psnr_pt(
    pred: torch.Tensor, target: torch.Tensor, *, y_channel: bool = True, crop_border: int = 0, quantize: bool = False
) -> torch.Tensor:
    """Per-image PSNR in dB, ``(B,)``; ``inf`` where a pair is identical.

    Args:
        pred: ``(B, 3, H, W)`` in [0, 1].
        target: ``(B, 3, H, W)`` in [0, 1].
        y_channel: score the Y channel (data range 255) instead of RGB (data range 1).
        crop_border: pixels dropped from each side before scoring.
        quantize: round both to 8 bits first (zero gradient; for validation only).

    Raises:
        ValueError: shapes differ, are not ``(B, 3, H, W)``, or the crop leaves nothing.
    """
    x, y, data_range = _prepare_pt(pred, target, y_channel=y_channel, crop_border=crop_border, quantize=quantize)
    mse = ((x - y) ** 2).mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(data_range**2 / mse)


def ssim_pt(
    pred: torch.Tensor, target: torch.Tensor, *, y_channel: bool = True, crop_border: int = 0, quantize: bool = False
) -> torch.Tensor:
    """Per-image Gaussian SSIM, ``(B,)``, differentiable; RGB SSIM averages the three channels.

    ``1 - ssim_pt(x, y, y_channel=False)`` is the SSIM training loss.

    Args:
        pred: ``(B, 3, H, W)`` in [0, 1].
        target: ``(B, 3, H, W)`` in [0, 1].
        y_channel: score the Y channel instead of each RGB channel.
        crop_border: pixels dropped from each side before scoring.
        quantize: round both to 8 bits first (zero gradient; for validation only).

    Raises:
        ValueError: shapes differ or are smaller than :data:`SSIM_WINDOW` after the crop.
    """
    x, y, data_range = _prepare_pt(pred, target, y_channel=y_channel, crop_border=crop_border, quantize=quantize)
    _check_window(x.shape[-2], x.shape[-1])
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    window = _gaussian_1d(x.dtype, x.device)
    mu_x, mu_y = _blur(x, window), _blur(y, window)
    var_x = _blur(x * x, window) - mu_x**2
    var_y = _blur(y * y, window) - mu_y**2
    cov = _blur(x * y, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean(dim=(1, 2, 3))


def _prepare_pt(
    pred: torch.Tensor, target: torch.Tensor, *, y_channel: bool, crop_border: int, quantize: bool
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Torch twin of :func:`_prepare`: float32 at least, float64 kept."""
    if pred.ndim != 4:
        raise ValueError(f"expected (B, 3, H, W) tensors, got shape {tuple(pred.shape)}")
    _check_shapes(tuple(pred.shape), tuple(target.shape), channel_axis=1, crop_border=crop_border)
    dtype = torch.float64 if pred.dtype == torch.float64 else torch.float32
    pair = []
    for img in (pred, target):
        img = img.to(dtype)
        if crop_border:
            img = img[..., crop_border:-crop_border, crop_border:-crop_border]
        if quantize:
            img = torch.round(img.clamp(0.0, 1.0) * 255.0) / 255.0
        pair.append(rgb_to_y_pt(img) if y_channel else img)
    return pair[0], pair[1], 255.0 if y_channel else 1.0


def _gaussian_1d(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Normalised 1-D Gaussian of :data:`SSIM_WINDOW` taps (MATLAB ``fspecial``, scipy truncate 3.5)."""
    offsets = torch.arange(SSIM_WINDOW, dtype=torch.float64) - SSIM_WINDOW // 2
    taps = torch.exp(-(offsets**2) / (2 * _SIGMA**2))
    return (taps / taps.sum()).to(dtype=dtype, device=device)


def _blur(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter per channel, "valid" region only (the border SSIM discards)."""
    channels = x.shape[1]
    x = F.conv2d(x, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    return F.conv2d(x, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)


# ----------------------------------------------------------------------------- checks


def _check_shapes(a: tuple[int, ...], b: tuple[int, ...], *, channel_axis: int, crop_border: int) -> None:
    """Same shape, three channels, and something left after the border crop."""
    if a != b:
        raise ValueError(f"image shapes differ: {a} vs {b}")
    if len(a) < 3 or a[channel_axis] != 3:
        raise ValueError(f"expected 3-channel RGB images, got shape {a}")
    if crop_border < 0:
        raise ValueError(f"crop_border must be >= 0, got {crop_border}")
    spatial = (a[0], a[1]) if channel_axis == -1 else (a[-2], a[-1])
    if min(spatial) <= 2 * crop_border:
        raise ValueError(f"crop_border {crop_border} leaves nothing of a {spatial[0]}x{spatial[1]} image")


def _check_window(h: int, w: int) -> None:
    if min(h, w) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {h}x{w}")
