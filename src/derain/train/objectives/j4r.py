"""Objective ``j4r``: eq. 15 of seed paper 003 over synthetic clips, frame by frame, state carried.

A :class:`~derain.train.objectives.video.VideoObjective`: the base class runs the model causally
through each window of the clip (``forward(frame, state) -> (output, state)``) and hands the
per-frame outputs here; the loss of every frame is averaged. Truncated back-propagation through time
is the trainer's (``train.tbptt``: windows of K frames, the state detached between them).
"""

from __future__ import annotations

from typing import Any

import torch

from derain.losses.j4r import detect_loss, joint_loss, rect_loss, removal_loss
from derain.models.base import DerainModel, ModelOutput
from derain.schema import NonNegativeFloat
from derain.train.objectives.base import OBJECTIVES, weighted_sum
from derain.train.objectives.video import VideoObjective

__all__ = ["CLIP_KEYS", "J4RObjective"]

#: Batch keys the objective reads, all ``(B, T, C, H, W)``: a video batch with the hybrid rain's
#: ground truth (``hybrid_clips``: ``streaks`` with 3 channels, the binary occlusion map ``alpha`` with 1).
CLIP_KEYS = ("rain", "clean", "streaks", "alpha")


@OBJECTIVES.register("j4r")
class J4RObjective(VideoObjective):
    """``l_joint + lambda_d l_detect + lambda_c l_rect + lambda_r l_removal`` (weights: the paper's).

    Args:
        lambda_d: weight of the occlusion cross-entropy (paper: 0.001).
        lambda_c: weight of C-Net's high-pass reconstruction (paper: 0.0001).
        lambda_r: weight of R-Net's streak layer (paper: 0.0001).
    """

    def __init__(
        self,
        lambda_d: NonNegativeFloat = 0.001,
        lambda_c: NonNegativeFloat = 0.0001,
        lambda_r: NonNegativeFloat = 0.0001,
    ) -> None:
        super().__init__()
        self.weights = {"joint": 1.0, "detect": lambda_d, "rect": lambda_c, "removal": lambda_r}

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float, state: Any = None
    ) -> tuple[torch.Tensor, dict[str, float], Any]:
        """Check the batch, map the rect/removal targets to the model's colour space, then unroll (base class)."""
        missing = [k for k in CLIP_KEYS if k not in batch]
        if missing:
            raise ValueError(f"objective 'j4r': the batch lacks {missing} (hybrid_clips items)")
        targets = {
            "clean_space": model.to_model_space(batch["clean"]),
            "streaks": model.to_model_space(batch["streaks"]),
        }
        return super().forward(model, {**batch, **targets}, progress, state)

    def clip_loss(
        self, outputs: list[ModelOutput], batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean over the window's frames of each eq. 15 term, weighted; ``progress`` is unused."""
        sums: dict[str, torch.Tensor] = {}
        for t, out in enumerate(outputs):
            for name, value in self._frame_terms(out, batch, t).items():
                sums[name] = sums.get(name, 0.0) + value / len(outputs)
        return weighted_sum(sums, self.weights, prefix="l_")

    def _frame_terms(self, out: ModelOutput, batch: dict[str, torch.Tensor], t: int) -> dict[str, torch.Tensor]:
        clean = batch["clean"][:, t]
        terms = {"joint": joint_loss(out.background, clean)}
        if self.weights["detect"]:
            terms["detect"] = detect_loss(out.alpha, batch["alpha"][:, t])
        if self.weights["rect"]:
            terms["rect"] = rect_loss(out.detail, batch["clean_space"][:, t])
        if self.weights["removal"]:
            terms["removal"] = removal_loss(out.rain, batch["streaks"][:, t])
        return terms
