"""Objective ``timelapse``: ground-truth-free training on frames of a static rainy scene (Cho 2020, eq. 8).

``L = lambda_b L_b + lambda_s gamma(progress) L_s + lambda_v L_v + lambda_r L_r``. The model runs
on every frame with shared weights (one batched call: a Siamese network). The objective reads
``batch["frames"]`` and nothing else, so a clean image can never reach the loss.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import torch
from torch import nn

from derain.losses.timelapse import (
    background_consistency_loss,
    cross_frame_loss,
    directional_gradient_loss,
    gamma_schedule,
    gradient_orientation,
    recomposition_loss,
)
from derain.models.base import DerainModel
from derain.schema import NonNegativeFloat, PositiveFloat, PositiveInt, UnitFloat
from derain.train.objectives.base import OBJECTIVES, Objective, weighted_sum

__all__ = ["DirectionalGradientNet", "TimelapseObjective"]


class DirectionalGradientNet(nn.Module):
    """Fig. 5: a 3x3 conv + softmax soft-assigns each rain-gradient orientation to ``k`` learnable centres.

    Training only (it regularises the deraining network and is never exported). The conv sees
    ``(cos theta, sin theta)`` rather than the raw angle (our choice: membership then varies
    continuously across the ``+-pi`` wrap). Centres start evenly spread over the circle.

    Args:
        clusters: number of dominant directions ``k`` (paper: 4).
        eps: gradient magnitude below which a pixel has no orientation.
    """

    def __init__(self, clusters: int = 4, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.assign = nn.Conv2d(2, clusters, 3, padding=1)
        self.centres = nn.Parameter(torch.arange(clusters) * (2 * math.pi / clusters) - math.pi)

    def forward(self, rain: torch.Tensor) -> torch.Tensor:
        """``L_v`` of a ``(B, C, H, W)`` rain layer."""
        theta, valid = gradient_orientation(rain, self.eps)
        membership = self.assign(torch.cat([theta.cos(), theta.sin()], dim=1)).softmax(dim=1)
        return directional_gradient_loss(theta, membership, self.centres, valid)


@OBJECTIVES.register("timelapse")
class TimelapseObjective(Objective):
    """The four losses of eq. 8 over all frame pairs of a time-lapse batch.

    ``L_b`` averages over unordered pairs, ``L_s`` over ordered pairs ``m != n`` (both
    directions), ``L_r`` and ``L_v`` over frames. A term with weight 0 is not computed (Table VI
    ablations); with ``lambda_v = 0`` the directional network gets no gradient.

    Args:
        lambda_b: weight of the background consistency loss.
        lambda_s: weight of the structure (cross-frame) loss, before ``gamma``.
        lambda_v: weight of the directional gradient loss.
        lambda_r: weight of the recomposition loss.
        gamma_start: ``gamma`` at the start of training.
        gamma_end: ``gamma`` after ``gamma_fraction`` of training.
        gamma_fraction: share of training over which ``gamma`` decays linearly.
        clusters: ``k`` dominant rain directions.
        orientation_eps: gradient magnitude below which a rain pixel has no orientation.
    """

    kind = "timelapse"

    def __init__(
        self,
        lambda_b: NonNegativeFloat = 1.0,
        lambda_s: NonNegativeFloat = 0.1,
        lambda_v: NonNegativeFloat = 0.01,
        lambda_r: NonNegativeFloat = 0.001,
        gamma_start: NonNegativeFloat = 0.1,
        gamma_end: NonNegativeFloat = 1e-4,
        gamma_fraction: UnitFloat = 0.3,
        clusters: PositiveInt = 4,
        orientation_eps: PositiveFloat = 1e-3,
    ) -> None:
        super().__init__()
        self.weights = {"l_b": lambda_b, "l_s": lambda_s, "l_v": lambda_v, "l_r": lambda_r}
        self.gamma = (gamma_start, gamma_end, gamma_fraction)
        self.directional = DirectionalGradientNet(clusters, orientation_eps)

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(loss, terms)`` for ``batch["frames"]`` of shape ``(B, T >= 2, C, H, W)``."""
        frames = batch["frames"]
        if frames.ndim != 5 or frames.shape[1] < 2:
            raise ValueError(f"batch['frames'] must be (B, T>=2, C, H, W), got {tuple(frames.shape)}")
        n_frames = frames.shape[1]
        out = model(frames.flatten(0, 1))
        if out.rain is None:
            raise ValueError(
                f"objective 'timelapse' needs a model that returns its rain layer ({type(model).__name__})"
            )
        backgrounds = out.background.unflatten(0, frames.shape[:2])
        rains = out.rain.unflatten(0, frames.shape[:2])
        pairs = list(itertools.combinations(range(n_frames), 2))
        gamma = gamma_schedule(progress, *self.gamma)
        terms: dict[str, torch.Tensor] = {}
        if self.weights["l_b"]:
            terms["l_b"] = _mean(background_consistency_loss(backgrounds[:, m], backgrounds[:, n]) for m, n in pairs)
        if self.weights["l_s"]:
            ordered = [*pairs, *((n, m) for m, n in pairs)]
            terms["l_s"] = _mean(cross_frame_loss(frames[:, m], backgrounds[:, n]) for m, n in ordered)
        if self.weights["l_v"]:
            terms["l_v"] = self.directional(out.rain)
        if self.weights["l_r"]:
            terms["l_r"] = recomposition_loss(frames, backgrounds, rains)
        weights = {**self.weights, "l_s": self.weights["l_s"] * gamma}
        total, logged = weighted_sum(terms, weights)
        return total, {**logged, "gamma": gamma}


def _mean(values: Iterable[torch.Tensor]) -> torch.Tensor:
    return torch.stack(list(values)).mean()
