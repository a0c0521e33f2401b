"""The attention supervision of SPANet (seed paper 002, eq. 7): a binary rain mask and the map loss."""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["DEFAULT_MASK_THRESHOLD", "attention_loss", "rain_mask"]

#: Mean absolute RGB difference (in [0, 1] units) above which a pixel counts as rain: 0.03 is about
#: 8 grey levels, above JPEG and sensor noise yet below faint streaks. The paper says only
#: "thresholding the difference"; the release does not ship its training code.
DEFAULT_MASK_THRESHOLD = 0.03


def rain_mask(rainy: torch.Tensor, clean: torch.Tensor, threshold: float = DEFAULT_MASK_THRESHOLD) -> torch.Tensor:
    """``M``: 1 where ``mean_c |rainy - clean| > threshold``, else 0; ``(B, 3, H, W)`` -> ``(B, 1, H, W)``."""
    return ((rainy - clean).abs().mean(dim=1, keepdim=True) > threshold).to(rainy.dtype)


def attention_loss(attention: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``||A - M||_2^2``, averaged over pixels (eq. 7; the mean keeps it on the scale of the L1 term)."""
    return F.mse_loss(attention, mask.to(attention.dtype))
