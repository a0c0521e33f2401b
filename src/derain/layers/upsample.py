"""Fixed (non-trainable) bilinear transposed convolution, as in FCN-style decoders."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["BilinearUpsample2x"]


class BilinearUpsample2x(nn.Module):
    """Depthwise 3x3 stride-2 transposed convolution with a frozen bilinear kernel.

    The kernel is the outer product of ``[0.5, 1, 0.5]``: even output pixels copy the input,
    odd ones average their two neighbours. It is a buffer, not a parameter, so no optimiser can
    change it, and non-persistent, so it never enters a state dict. The input is replicate-padded
    by one pixel at the bottom/right first, so the last row/column is not halved.

    Args:
        channels: number of channels (each is upsampled on its own).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        tap = torch.tensor([0.5, 1.0, 0.5])
        kernel = torch.outer(tap, tap).expand(channels, 1, 3, 3).contiguous()
        self.channels = channels
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample ``(B, C, H, W)`` to ``(B, C, 2H, 2W)``."""
        h, w = x.shape[-2:]
        padded = F.pad(x, (0, 1, 0, 1), mode="replicate")
        up = F.conv_transpose2d(padded, self.kernel.to(x.dtype), stride=2, padding=1, groups=self.channels)
        return up[..., : 2 * h, : 2 * w]
