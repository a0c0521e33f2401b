"""Building blocks of the PHP network (paper 004, Xu et al.): contrast-aware pooling and the PHP block.

Both are written so that each Table IV ablation of the paper is a constructor switch rather than a
separate class, which keeps the variants comparable (same widths, same cost accounting).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ContrastAwarePooling", "PHPBlock", "PoolingKind", "SpatialReweight"]

#: ``contrast``: the paper's (1 - C_a) * Y average-pooled; ``max``: Table IV's "-> Max-pooling" (max-pool of Y);
#: ``none``: Table IV's "w/o. contrast-aware pooling" (no pooled input is concatenated).
PoolingKind = Literal["contrast", "max", "none"]


class ContrastAwarePooling(nn.Module):
    """``pool((1 - C_a) * Y)`` with ``C_a = sigmoid(f_d1(Y) - f_d2(Y))`` (paper eq. 2).

    ``f_d1`` is a 1x1 convolution (dilation 1) and ``f_d2`` a 3x3 convolution with dilation 2; both map
    the image to as many channels as it has, so ``C_a`` masks each colour channel (the paper does not
    say whether the map is per channel; per channel lets a coloured streak be masked in the channels
    it brightens). High local contrast (rain is brighter than its surroundings) drives ``C_a`` towards
    1, so ``1 - C_a`` keeps the likely rain-free pixels. ``f_d2`` pads by replication: zero padding
    would make every image border look like a bright streak.

    Args:
        channels: image channels (3).
        factor: pooling window and stride, the downsampling of the low-level features it joins.
        kind: see :data:`PoolingKind`; ``none`` is not accepted here (the caller drops the branch).
    """

    def __init__(self, channels: int, factor: int, kind: PoolingKind = "contrast") -> None:
        super().__init__()
        if kind not in ("contrast", "max"):
            raise ValueError(f"kind must be 'contrast' or 'max', got {kind!r}")
        self.factor = factor
        self.kind = kind
        if kind == "contrast":
            self.f_d1 = nn.Conv2d(channels, channels, 1)
            self.f_d2 = nn.Conv2d(channels, channels, 3, padding=2, dilation=2, padding_mode="replicate")

    def attention(self, y: torch.Tensor) -> torch.Tensor:
        """``C_a`` in (0, 1), same shape as ``y``: high where a pixel stands out from its neighbourhood."""
        return torch.sigmoid(self.f_d1(y) - self.f_d2(y))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            return F.max_pool2d(y, self.factor)
        return F.avg_pool2d((1.0 - self.attention(y)) * y, self.factor)


class SpatialReweight(nn.Module):
    """``f * sigmoid(T(f))`` with ``T`` = (3x3 depthwise conv, SELU) x 2 -- the PHP block's attention."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.t = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            nn.SELU(),
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            nn.SELU(),
        )

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return f * torch.sigmoid(self.t(f))


class PHPBlock(nn.Module):
    """One level of the hierarchical pyramid: a parallel pyramid of dilated 3x3 convolutions.

    Each branch ``i`` sees the block input through a 3x3 convolution of dilation ``dilations[i]``
    (ascending) and ReLU. With ``aggregate`` the branches are summed top-down inside the pyramid,
    ``p_i = b_i + p_{i-1}``, so every larger receptive field also carries the smaller ones' evidence
    (small streaks are not missed, large ones not under-estimated), then concatenated and re-weighted
    by :class:`SpatialReweight`. Without it the branches are simply concatenated (Table IV's
    "PHP-concatenation"). The result is added to the input (residual), so stacked blocks refine the
    same features with growing context. With ``layer_scale`` the result is first multiplied by a
    learnable per-channel scale (LayerScale, Touvron et al. 2021; derain's addition, not the paper's):
    set to zero, the block is the identity and still learns, which is how ``scripts/php_grow.py``
    adds blocks to trained weights.

    Each branch has ``channels // len(dilations)`` outputs, so the concatenation is ``channels`` wide
    and a block costs about one full 3x3 convolution whatever the number of branches.

    Args:
        channels: block width (a multiple of the branch count).
        dilations: one dilation rate per parallel branch, ascending.
        aggregate: top-down aggregation + re-weighting (the PHP block) or plain concatenation.
        layer_scale: learnable per-channel scale of the residual, initialised to 1.
    """

    def __init__(
        self, channels: int, dilations: tuple[int, ...], *, aggregate: bool = True, layer_scale: bool = False
    ) -> None:
        super().__init__()
        if not dilations or channels % len(dilations):
            raise ValueError(f"channels ({channels}) must be a multiple of the branch count ({len(dilations)})")
        if list(dilations) != sorted(dilations):
            raise ValueError(f"dilations must be ascending, got {dilations}")
        self.dilations = tuple(dilations)
        self.aggregate = aggregate
        width = channels // len(dilations)
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, width, 3, padding=rate, dilation=rate) for rate in self.dilations
        )
        self.reweight = SpatialReweight(channels) if aggregate else None
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1)) if layer_scale else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [F.relu(branch(x)) for branch in self.branches]
        if self.aggregate:
            for i in range(1, len(feats)):
                feats[i] = feats[i] + feats[i - 1]
        f = torch.cat(feats, dim=1)
        if self.reweight is not None:
            f = self.reweight(f)
        if self.scale is not None:
            f = self.scale * f
        return x + f
