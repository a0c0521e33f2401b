"""Objective ``memory``: Siamese training on two rainy frames of one scene (seed paper 001, eq. 14).

``L = lambda_b L_b + lambda_s L_s + lambda_c L_c + lambda_w L_w`` with the shared time-lapse
losses (:mod:`derain.losses.timelapse`) and the background selective whitening loss
(:mod:`derain.losses.bsw`). Only ``batch["frames"]`` is read: no clean image is ever used.

Defaults are the paper's weights. ``configs/memory.yaml`` raises ``lambda_c`` to 1: with the
paper's 0.001 (and with 0.1, or a 1 -> 0.001 warm-up) our short probes drifted to the trivial
constant background (``L_b = 0``); see ``docs/methods/memory.md``.

Ablation switches: a weight of 0 drops a term (Table V); ``siamese: false`` is Table IV's
"encoder-decoder" training, an L1 loss against the time average of the item's frames (the
paper's footnote 4 averages 30 frames; with two frames the average is a weak pseudo-target).
The memory on/off switch is the model's ``use_memory``.

Collapse guard (issue #9): every step logs ``mem_cos``, the mean pairwise cosine similarity of the
memory items, ``mem_used``, how many items are the nearest item of at least one query of the
batch, and ``read_entropy``, the mean entropy of the read weights (``log M`` = every item read
equally). Items that collapse to one vector (``mem_cos`` above 0.99), or a memory of which only one
item is ever the nearest (the others are dead: never updated), turn the memory into a constant, so
a warning says which.
"""

from __future__ import annotations

import warnings

import torch
from torch.nn import functional as F

from derain.losses.bsw import bsw_loss
from derain.losses.timelapse import background_consistency_loss, cross_frame_loss, recomposition_loss
from derain.models.base import DerainModel
from derain.models.memory import item_similarity, read_entropy
from derain.schema import NonNegativeFloat, PositiveInt
from derain.train.objectives.base import OBJECTIVES, Objective, weighted_sum

__all__ = ["COLLAPSE_COSINE", "MemoryCollapseWarning", "MemoryObjective"]

#: Mean pairwise item cosine above which the memory is reported as collapsed.
COLLAPSE_COSINE = 0.99


class MemoryCollapseWarning(UserWarning):
    """The memory items have (nearly) become one vector: the memory no longer distinguishes rain types."""


@OBJECTIVES.register("memory")
class MemoryObjective(Objective):
    """Eq. 14 on ``{"frames": (B, T, 3, H, W)}``, ``T >= 2`` (the Siamese pair is frames 0 and 1).

    Args:
        lambda_b: background consistency ``|B_m - B_n|`` (paper: 1).
        lambda_s: self-consistency ``|I - (B + R)|`` (paper: 0.1).
        lambda_c: cross information ``|I_m - B_n|``, both directions averaged (paper: 0.001).
        lambda_w: background selective whitening on the queries (paper: blank; measured, see
            ``docs/methods/memory.md``).
        siamese: False trains one branch against the frames' time average (Table IV B_a/B_b).
        bsw_low: ``l`` of the BSW loss (paper: 2).
        bsw_groups: ``h`` of the BSW loss (paper: 4).
    """

    kind = "timelapse"

    def __init__(
        self,
        lambda_b: NonNegativeFloat = 1.0,
        lambda_s: NonNegativeFloat = 0.1,
        lambda_c: NonNegativeFloat = 0.001,
        lambda_w: NonNegativeFloat = 0.01,
        siamese: bool = True,
        bsw_low: PositiveInt = 2,
        bsw_groups: PositiveInt = 4,
    ) -> None:
        super().__init__()
        self.weights = {"b": lambda_b, "s": lambda_s, "c": lambda_c, "w": lambda_w}
        self.siamese = siamese
        self.bsw_low, self.bsw_groups = bsw_low, bsw_groups
        self._warned = False

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Return ``(loss, terms)``; ``progress`` is unused (the weights are constant)."""
        frames = batch["frames"]
        if frames.dim() != 5 or frames.shape[1] < 2:
            raise ValueError(f"memory objective: frames must be (B, T>=2, 3, H, W), got {tuple(frames.shape)}")
        if not self.siamese:
            return self._single_branch(model, frames)
        n = frames.shape[0]
        inputs = torch.cat([frames[:, 0], frames[:, 1]])  # one forward: one memory update per step
        out = model(inputs)
        b_m, b_n = out.background[:n], out.background[n:]
        terms: dict[str, torch.Tensor] = {}
        if self.weights["b"]:
            terms["b"] = background_consistency_loss(b_m, b_n)
        if self.weights["s"]:
            terms["s"] = recomposition_loss(inputs, out.background, out.rain)
        if self.weights["c"]:
            terms["c"] = 0.5 * (cross_frame_loss(frames[:, 0], b_n) + cross_frame_loss(frames[:, 1], b_m))
        if self.weights["w"]:
            terms["w"] = bsw_loss(out.query[:n], out.query[n:], low=self.bsw_low, groups=self.bsw_groups)
        loss, logged = weighted_sum(terms, self.weights, prefix="L_")
        return loss, {**logged, **self._memory_health(model, out.read_weights)}

    def _memory_health(self, model: DerainModel, read_weights: torch.Tensor | None) -> dict[str, float]:
        """Item diversity, items in use and read entropy for the log; warns once when the memory degenerates."""
        if read_weights is None:
            return {}
        cos = item_similarity(model.memory.items)
        used = int(read_weights.argmax(dim=1).unique().numel())
        problem = ""
        if cos > COLLAPSE_COSINE:
            problem = f"memory items collapsed: mean pairwise cosine {cos:.4f} > {COLLAPSE_COSINE}"
        elif used == 1 and read_weights.shape[1] > 1:
            problem = f"only 1 of {read_weights.shape[1]} memory items is the nearest item of any query in this batch"
        if problem and not self._warned:
            self._warned = True
            warnings.warn(f"{problem} (the memory reads one constant vector)", MemoryCollapseWarning, stacklevel=2)
        return {"mem_cos": cos, "mem_used": float(used), "read_entropy": read_entropy(read_weights)}

    def _single_branch(self, model: DerainModel, frames: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Table IV "encoder-decoder": L1 of frame 0's output against the frames' time average."""
        out = model(frames[:, 0])
        return weighted_sum({"l1": F.l1_loss(out.background, frames.mean(dim=1))}, {"l1": 1.0}, prefix="L_")
