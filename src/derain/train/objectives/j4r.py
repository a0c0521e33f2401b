"""Objective ``j4r``: eq. 15 of seed paper 003 over synthetic clips, frame by frame, state carried.

The model runs causally through each clip (``forward(frame, state) -> (output, state)``), starting
from an empty state; the loss of every frame is averaged. Gradients flow back through the state
for at most ``detach_every`` frames (truncated back-propagation through time; None: the whole clip).
"""

from __future__ import annotations

import torch

from derain.losses.j4r import detect_loss, joint_loss, rect_loss, removal_loss
from derain.models.base import DerainModel
from derain.schema import NonNegativeFloat, PositiveInt
from derain.train.objectives.base import OBJECTIVES, Objective, weighted_sum

__all__ = ["J4RObjective"]

#: Batch keys the objective reads: all ``(B, T, ...)``; ``alpha`` is ``(B, T, H, W)``.
CLIP_KEYS = ("rain", "clean", "streaks", "alpha")


@OBJECTIVES.register("j4r")
class J4RObjective(Objective):
    """``l_joint + lambda_d l_detect + lambda_c l_rect + lambda_r l_removal`` (weights: the paper's).

    Args:
        lambda_d: weight of the occlusion cross-entropy (paper: 0.001).
        lambda_c: weight of C-Net's high-pass reconstruction (paper: 0.0001).
        lambda_r: weight of R-Net's streak layer (paper: 0.0001).
        detach_every: cut the gradient through the recurrent state every this many frames.
    """

    kind = "hybrid_video"

    def __init__(
        self,
        lambda_d: NonNegativeFloat = 0.001,
        lambda_c: NonNegativeFloat = 0.0001,
        lambda_r: NonNegativeFloat = 0.0001,
        detach_every: PositiveInt | None = None,
    ) -> None:
        super().__init__()
        self.weights = {"joint": 1.0, "detect": lambda_d, "rect": lambda_c, "removal": lambda_r}
        self.detach_every = detach_every

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(loss, terms)`` for a batch of clips; ``progress`` is unused."""
        missing = [k for k in CLIP_KEYS if k not in batch]
        if missing:
            raise ValueError(f"objective 'j4r': the batch lacks {missing} (hybrid_video items)")
        rain = batch["rain"]
        n_frames = rain.shape[1]
        state = None
        sums: dict[str, torch.Tensor] = {}
        for t in range(n_frames):
            if state is not None and self.detach_every and t % self.detach_every == 0:
                state = tuple(h.detach() for h in state)
            out, state = model(rain[:, t], state)
            for name, value in self._frame_terms(model, out, batch, t).items():
                sums[name] = sums.get(name, 0.0) + value / n_frames
        return weighted_sum(sums, self.weights, prefix="l_")

    def _frame_terms(self, model: DerainModel, out, batch: dict[str, torch.Tensor], t: int) -> dict[str, torch.Tensor]:
        clean = batch["clean"][:, t]
        terms = {"joint": joint_loss(out.background, clean)}
        if self.weights["detect"]:
            terms["detect"] = detect_loss(out.alpha, batch["alpha"][:, t])
        if self.weights["rect"]:
            terms["rect"] = rect_loss(out.detail, model.to_model_space(clean))
        if self.weights["removal"]:
            terms["removal"] = removal_loss(out.rain, model.to_model_space(batch["streaks"][:, t]))
        return terms
