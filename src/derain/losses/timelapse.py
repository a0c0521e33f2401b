"""Time-lapse (ground-truth-free) losses of Cho et al. 2020, eqs. 2-8; shared with ``memory``.

All are pure functions on ``(B, C, H, W)`` tensors. The paper *sums* over pixels, pairs and
scenes; we take *means* so a loss does not scale with crop or batch size. ``L_b``, ``L_s`` and
``L_r`` all average over the same ``B*C*H*W`` elements, so the paper's ratios
``lambda_b : lambda_s : lambda_r`` carry over unchanged. ``L_v`` averages over ``B*H*W`` (one
orientation per pixel), i.e. relative to the summed paper loss it is ``C`` times larger per
unit of ``lambda_v``; we keep the paper's ``lambda_v = 0.01`` as is and say so in the docs.
"""

from __future__ import annotations

import torch

__all__ = [
    "background_consistency_loss",
    "cross_frame_loss",
    "directional_gradient_loss",
    "gamma_schedule",
    "gradient_orientation",
    "recomposition_loss",
]


def _mean_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean()


def background_consistency_loss(b_m: torch.Tensor, b_n: torch.Tensor) -> torch.Tensor:
    """``L_b`` (eq. 2): mean L1 between the backgrounds derained from two frames of one scene.

    Args:
        b_m: background of frame ``m``, ``(B, C, H, W)``.
        b_n: background of frame ``n``, same shape.
    """
    return _mean_l1(b_m, b_n)


def cross_frame_loss(input_m: torch.Tensor, background_n: torch.Tensor) -> torch.Tensor:
    """``L_s`` (eq. 3; ``L_c`` of the memory paper): mean L1 between rainy frame ``m`` and background ``n``.

    ``m != n`` is the caller's duty (with ``m == n`` the network learns to keep the rain).
    The decaying ``gamma`` weight is also applied by the caller (see :func:`gamma_schedule`).

    Args:
        input_m: rainy frame ``m``, ``(B, C, H, W)`` in [0, 1].
        background_n: background derained from frame ``n``, same shape.
    """
    return _mean_l1(input_m, background_n)


def recomposition_loss(inputs: torch.Tensor, background: torch.Tensor, rain: torch.Tensor) -> torch.Tensor:
    """``L_r`` (eq. 7): mean ``|I - (B + S)|``.

    With ``B = clamp(I - S)`` this is non-zero only where the clipping bites, so it keeps ``S``
    inside the range that the rain model ``I = B + S`` allows.

    Args:
        inputs: rainy image ``I``, ``(B, C, H, W)``.
        background: derained ``B``, same shape.
        rain: estimated rain layer ``S`` (before clipping), same shape.
    """
    return _mean_l1(inputs, background + rain)


def gamma_schedule(progress: float, start: float = 0.1, end: float = 1e-4, fraction: float = 0.3) -> float:
    """``gamma`` of eq. 3: linear from ``start`` to ``end`` over the first ``fraction`` of training, then ``end``.

    Args:
        progress: ``step / total_steps`` in [0, 1] (values outside are clamped).
        start: value at ``progress = 0``.
        end: value from ``progress = fraction`` on.
        fraction: share of training over which gamma decays (0 means ``end`` throughout).
    """
    if fraction <= 0:
        return end
    t = min(max(progress / fraction, 0.0), 1.0)
    return start + (end - start) * t


def gradient_orientation(rain: torch.Tensor, eps: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient orientation ``theta = atan2(dS/dy, dS/dx)`` of the rain layer (channel mean).

    Central differences with replicated borders. Pixels whose gradient magnitude is below
    ``eps`` have no orientation: they are marked invalid and get a safe ``theta = 0`` whose
    gradient is exactly zero (``atan2`` at the origin would give NaN gradients).

    Args:
        rain: ``(B, C, H, W)`` rain layer ``S``.
        eps: magnitude below which a pixel is flat (same units as ``S``).

    Returns:
        ``theta`` in ``(-pi, pi]`` and the float ``valid`` mask, both ``(B, 1, H, W)``.
    """
    s = rain.mean(dim=1, keepdim=True)
    padded = torch.nn.functional.pad(s, (1, 1, 1, 1), mode="replicate")
    gx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    gy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    valid = gx.square() + gy.square() > eps**2
    theta = torch.atan2(torch.where(valid, gy, 0.0), torch.where(valid, gx, 1.0))
    return theta, valid.to(rain.dtype)


def directional_gradient_loss(
    theta: torch.Tensor, membership: torch.Tensor, centres: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """``L_v`` (eqs. 4-6): soft-assigned circular L1 distance of orientations to ``k`` centres.

    ``L_v = mean_i valid_i * sum_k alpha_k(theta_i) * d(theta_i, c_k)`` where ``d`` is the
    angular distance wrapped to [0, pi] (our choice: the paper's plain ``|theta - c_k|`` splits
    near-vertical streaks, whose gradients point to ``+-pi``, into two far-apart clusters).
    Flat pixels count as zero, so a sparse rain layer also lowers the loss.

    Args:
        theta: ``(B, 1, H, W)`` orientations in radians.
        membership: ``(B, K, H, W)`` soft assignments ``alpha`` (sum to 1 over ``K``).
        centres: ``(K,)`` cluster centres in radians.
        valid: ``(B, 1, H, W)`` 1 where the orientation is defined, else 0.
    """
    diff = theta - centres.view(1, -1, 1, 1)
    distance = torch.atan2(torch.sin(diff), torch.cos(diff)).abs()
    return (membership * distance * valid).sum(dim=1).mean()
