"""``supervised``: L1 (+ optional 1 - SSIM) between the derained image and the clean target.

The SSIM term reuses the metric module's differentiable RGB SSIM, so training and scoring share
one window definition. An optional teacher (:mod:`derain.train.teacher`) adds an L1 pull towards a
frozen derainer's output on the same crop: with the run's own start as teacher, a continuation is
anchored to what it already removes.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from derain.eval.metrics import ssim_pt
from derain.models.base import DerainModel
from derain.schema import NonNegativeFloat
from derain.train.objectives.base import OBJECTIVES, Objective, weighted_sum
from derain.train.teacher import optional_teacher

__all__ = ["Supervised"]


@OBJECTIVES.register("supervised")
class Supervised(Objective):
    """Paired training: ``l1_weight * |B - clean| + ssim_weight * (1 - SSIM_rgb(B, clean))`` (+ the teacher term).

    Args:
        l1_weight: weight of the mean absolute error.
        ssim_weight: weight of the SSIM term (0 disables it; inputs must then be >= 11 px a side).
        teacher: ``bundled:NAME`` or a weights file whose output is a second L1 target ("" = none).
        teacher_weight: weight of ``|B - teacher(rain)|`` (0 = off).
    """

    kind = "paired"

    def __init__(
        self,
        l1_weight: NonNegativeFloat = 1.0,
        ssim_weight: NonNegativeFloat = 0.0,
        teacher: str = "",
        teacher_weight: NonNegativeFloat = 0.0,
    ) -> None:
        super().__init__()
        if l1_weight < 0 or ssim_weight < 0 or l1_weight + ssim_weight == 0:
            raise ValueError(f"weights must be >= 0 and not both 0 (got l1={l1_weight}, ssim={ssim_weight})")
        self.weights = {"l1": float(l1_weight), "ssim": float(ssim_weight), "teacher": float(teacher_weight)}
        self.teacher = optional_teacher(teacher, teacher_weight, "teacher_weight")

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Derain ``batch["rain"]`` ``(B, 3, H, W)`` and compare with ``batch["clean"]``."""
        background = model(batch["rain"]).background
        taught = self.teacher(batch["rain"]) if self.teacher is not None else None
        with torch.autocast(background.device.type, enabled=False):  # SSIM's variances need float32
            return self._loss(background.float(), batch["clean"].float(), taught)

    def _loss(
        self, background: torch.Tensor, clean: torch.Tensor, taught: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        terms = {"l1": F.l1_loss(background, clean)}
        if self.weights["ssim"]:
            terms["ssim"] = 1.0 - ssim_pt(background, clean, y_channel=False).mean()
        if taught is not None:
            terms["teacher"] = F.l1_loss(background, taught.float())
        return weighted_sum(terms, self.weights)
