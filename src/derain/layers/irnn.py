"""Four-directional IRNN in plain PyTorch (SPANet eq. 5; seed paper 002, section 4.1).

Along each of the four directions every channel runs the recurrence

    h_0 = ReLU(x_0),    h_i = ReLU(alpha * h_{i-1} + b + x_i)

with its own recurrent weight ``alpha`` (initialised at 0.2) and bias ``b`` per direction and
channel. The edge pixel takes no bias, as in the authors' CUDA kernel (``output = max(x, 0)`` at
the border, the recurrence from the next pixel on). Directions are named as in the release: ``up``
runs from the bottom row upwards (row ``r`` sees rows ``r..H-1``), ``down`` from the top row
downwards, ``right`` from the left column rightwards, ``left`` from the right column leftwards.

Why a sequential scan: ``benchmarks/irnn_speed.py`` timed a per-pixel loop, an autograd row loop,
this scan (a loop over rows or columns, vectorised over everything else, with a hand-written
backward) and two parallel forms of the same recurrence -- a chunked scan and a log-depth
(Hillis-Steele) scan over the maps ``h -> max(A h + P, Q)``, which are closed under composition
only for ``alpha >= 0``. On the CPU the sequential scan was the fastest (the parallel forms move
several times more memory), and it is exact for any sign of ``alpha``; see
``benchmarks/results/irnn_speed.md``.

The backward pass is the linear recurrence ``d_i = m_i (g_i + alpha d_{i+1})`` with the ReLU
masks ``m_i = [h_i > 0]`` of the forward pass, so no autograd graph is kept per step. Without
gradients (inference, export) the same forward loop runs directly; the loop length is the image
side, so exported graphs have a fixed size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["DIRECTIONS", "IRNN", "Scan", "four_directions", "irnn_scan"]

#: Output order of :class:`IRNN`, as in the release (``top_up, top_right, top_down, top_left``).
DIRECTIONS = ("up", "right", "down", "left")
#: ``scan(z, alpha, bias) -> h`` along dim 0 of ``z`` (see :func:`irnn_scan`).
Scan = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _forward(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Scan ``z`` ``(S, ...)`` along dim 0; ``alpha``/``bias`` broadcast against ``z[0]``.

    Steps are collected and stacked once (no in-place writes), which keeps exported graphs at two
    nodes per step; in-place writes into one buffer become a scatter of the whole buffer per step.
    """
    biased = z + bias
    h = [torch.clamp(z[0], min=0.0)]
    for i in range(1, z.shape[0]):
        h.append(torch.addcmul(biased[i], alpha, h[-1]).clamp_(min=0.0))
    return torch.stack(h)


class _Scan(torch.autograd.Function):
    """The scan with the hand-written linear backward recurrence."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        out = _forward(z, alpha, bias)
        ctx.save_for_backward(alpha, out)
        ctx.shapes = (alpha.shape, bias.shape)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        alpha, out = ctx.saved_tensors
        active = (out > 0).to(grad.dtype)
        delta = torch.empty_like(grad)
        torch.mul(grad[-1], active[-1], out=delta[-1])
        for i in range(grad.shape[0] - 2, -1, -1):
            torch.addcmul(grad[i], alpha, delta[i + 1], out=delta[i])
            delta[i].mul_(active[i])
        alpha_shape, bias_shape = ctx.shapes
        grad_alpha = _sum_to(delta[1:] * out[:-1], alpha_shape)
        grad_bias = _sum_to(delta[1:], bias_shape)
        return delta, grad_alpha, grad_bias


def _sum_to(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum ``t`` ``(S, ...)`` over the scan dim and every dim where ``shape`` broadcasts."""
    t = t.sum(0)
    dims = [d for d, n in enumerate(shape) if n == 1 and t.shape[d] != 1]
    return t.sum(dims, keepdim=True) if dims else t


def irnn_scan(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The IRNN recurrence along dim 0 of ``z`` (differentiable in all three arguments).

    Args:
        z: ``(S, *rest)`` inputs, scanned from index 0 to ``S - 1``.
        alpha: recurrent weights, broadcastable to ``rest``.
        bias: biases, broadcastable to ``rest`` (not added at index 0).
    """
    if torch.is_grad_enabled() and (z.requires_grad or alpha.requires_grad or bias.requires_grad):
        return _Scan.apply(z, alpha, bias)
    return _forward(z, alpha, bias)


class IRNN(nn.Module):
    """One round of the four-directional IRNN on ``(B, C, H, W)`` features.

    Returns ``(B, 4, C, H, W)``: the four direction outputs in :data:`DIRECTIONS` order.
    Both vertical directions run in one scan over rows, both horizontal ones in one scan over
    columns (each vectorised over batch, channels and the other axis).

    Args:
        channels: ``C``.
        init_alpha: initial recurrent weight (paper / IRNN: 0.2 here, the release's value).
    """

    def __init__(self, channels: int, init_alpha: float = 0.2) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((4, channels), float(init_alpha)))
        self.bias = nn.Parameter(torch.zeros(4, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C, H, W)`` -> ``(B, 4, C, H, W)`` (up, right, down, left)."""
        return four_directions(x, self.weight, self.bias)


def four_directions(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, scan: Scan = irnn_scan) -> torch.Tensor:
    """Run ``scan`` along the four directions of ``x`` ``(B, C, H, W)`` -> ``(B, 4, C, H, W)``.

    ``weight``/``bias`` are ``(4, C)`` in :data:`DIRECTIONS` order; ``scan`` is swappable so
    ``benchmarks/irnn_speed.py`` can time other scans through the same layout code.
    """
    w = weight[:, None, :, None].to(x.dtype)  # (4, 1, C, 1): broadcast over (B, C, L)
    b = bias[:, None, :, None].to(x.dtype)
    rows = x.permute(2, 0, 1, 3)  # (H, B, C, W): scan over rows
    cols = x.permute(3, 0, 1, 2)  # (W, B, C, H): scan over columns
    vertical = scan(torch.stack([rows.flip(0), rows], dim=1), w[0::2], b[0::2])  # up, down
    horizontal = scan(torch.stack([cols, cols.flip(0)], dim=1), w[1::2], b[1::2])  # right, left
    up = vertical[:, 0].flip(0).permute(1, 2, 0, 3)
    down = vertical[:, 1].permute(1, 2, 0, 3)
    right = horizontal[:, 0].permute(1, 2, 3, 0)
    left = horizontal[:, 1].flip(0).permute(1, 2, 3, 0)
    return torch.stack([up, right, down, left], dim=1)
