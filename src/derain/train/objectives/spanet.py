"""Objective ``spanet``: ``L1 + (1 - SSIM) + ||A1 - M||^2`` on rainy/clean pairs (seed paper 002, eqs. 6-7).

``A1`` is the attention map of the network's first SAM call. ``M`` is the batch's ``mask`` when the
dataset provides one (synthetic pairs know exactly where the rain layer is), otherwise the rainy
and clean images thresholded (:func:`derain.losses.attention.rain_mask`). The image terms compare
the *unclipped* prediction ``I - rain`` with the clean image, so pixels predicted outside [0, 1]
still get gradients (the release never clips).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from derain.errors import ConfigError
from derain.eval.metrics import ssim_pt
from derain.losses.attention import DEFAULT_MASK_THRESHOLD, attention_loss, rain_mask
from derain.models.base import DerainModel
from derain.schema import NonNegativeFloat, UnitFloat, require
from derain.train.objectives.base import OBJECTIVES, Objective, weighted_sum

__all__ = ["SpaNetObjective"]


@OBJECTIVES.register("spanet")
class SpaNetObjective(Objective):
    """Eq. 6 with weights (paper: all 1).

    Args:
        l1_weight: weight of ``|P - C|``.
        ssim_weight: weight of ``1 - SSIM(P, C)`` (RGB, the metric module's Gaussian window).
        attention_weight: weight of ``||A1 - M||^2`` (0: the paper's B_e ablation, Table 4).
        mask_threshold: threshold of the computed mask ``M`` (unused when the batch has ``mask``).
    """

    kind = "paired"

    def __init__(
        self,
        l1_weight: NonNegativeFloat = 1.0,
        ssim_weight: NonNegativeFloat = 1.0,
        attention_weight: NonNegativeFloat = 1.0,
        mask_threshold: UnitFloat = DEFAULT_MASK_THRESHOLD,
    ) -> None:
        super().__init__()
        require(l1_weight + ssim_weight > 0, "objective.options", "l1_weight + ssim_weight must be > 0")
        self.weights = {"l1": l1_weight, "ssim": ssim_weight, "att": attention_weight}
        self.mask_threshold = mask_threshold

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(loss, terms)`` for ``batch`` ``{"rain", "clean"[, "mask"]}``; ``progress`` is unused."""
        rainy, clean = batch["rain"], batch["clean"]
        out = model(rainy)
        if not out.attention or out.rain is None:
            raise ConfigError(f"objective 'spanet': model {type(model).__name__} returns no attention maps")
        pred = (rainy - out.rain).float()
        terms: dict[str, torch.Tensor] = {}
        if self.weights["l1"]:
            terms["l1"] = F.l1_loss(pred, clean.float())
        if self.weights["ssim"]:
            terms["ssim"] = 1.0 - ssim_pt(pred, clean.float(), y_channel=False).mean()
        if self.weights["att"]:
            mask = batch.get("mask")
            if mask is None:
                mask = rain_mask(rainy, clean, self.mask_threshold)
            terms["att"] = attention_loss(out.attention[0].float(), mask)
        return weighted_sum(terms, self.weights)
