"""J4R-Net's losses (seed paper 003, eq. 15), as pure functions on ``(B, C, H, W)`` tensors.

``l_all = l_joint + lambda_d l_detect + lambda_c l_rect + lambda_r l_removal`` with the paper's
``lambda = 0.001, 0.0001, 0.0001``. The squared norms are taken as *means* over elements (so a
loss does not scale with crop or batch size); ``l_detect`` is the mean per-pixel cross-entropy
of D-Net's 2 classes against the binary occlusion map (the printed formula is garbled:
``log sum exp f - alpha`` is the cross-entropy with the logit of the true class missing).

``E`` (the paper only says "a high-pass filter"): ``E(x) = x - G * x`` with ``G`` a normalised
9x9 Gaussian, sigma 1.5, reflect padding -- the detail layer that rain streaks and fine texture
live in (DetailNet's split, with a Gaussian for the guided filter).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["HIGH_PASS_SIGMA", "detect_loss", "high_pass", "joint_loss", "rect_loss", "removal_loss"]

#: Sigma (px) of the Gaussian whose residual is the high-pass ``E``; taps reach 2.7 sigma each side.
HIGH_PASS_SIGMA = 1.5
_RADIUS = 4


def _taps(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    offsets = torch.arange(-_RADIUS, _RADIUS + 1, dtype=torch.float64)
    taps = torch.exp(-(offsets**2) / (2 * HIGH_PASS_SIGMA**2))
    return (taps / taps.sum()).to(dtype=dtype, device=device)


def high_pass(x: torch.Tensor) -> torch.Tensor:
    """``E(x) = x - Gaussian(x)`` per channel, same size as ``x`` ``(B, C, H, W)``.

    Sides shorter than the filter radius + 1 fall back to replicate padding (reflection needs more).
    """
    c = x.shape[1]
    taps = _taps(x.dtype, x.device)
    mode = "reflect" if min(x.shape[-2:]) > _RADIUS else "replicate"
    padded = F.pad(x, (_RADIUS,) * 4, mode=mode)
    blurred = F.conv2d(padded, taps.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    blurred = F.conv2d(blurred, taps.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return x - blurred


def joint_loss(background: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """``l_joint``: mean squared error of the estimated background."""
    return F.mse_loss(background, clean)


def detect_loss(logit: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``l_detect``: mean per-pixel 2-class cross-entropy, from the ``(B, 1, H, W)`` occlusion logit.

    The logit is the difference of the two class logits, so binary cross-entropy on it equals the
    2-class softmax cross-entropy. ``alpha`` ``(B, 1, H, W)`` may be soft; it is thresholded at 0.5
    into class 1 = occluded.
    """
    target = (alpha > 0.5).to(logit.dtype)
    return F.binary_cross_entropy_with_logits(logit, target)


def rect_loss(detail: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """``l_rect``: MSE between C-Net's predicted detail and ``E`` of the clean frame."""
    return F.mse_loss(detail, high_pass(clean))


def removal_loss(rain: torch.Tensor, streaks: torch.Tensor) -> torch.Tensor:
    """``l_removal``: MSE of R-Net's streak layer."""
    return F.mse_loss(rain, streaks)
