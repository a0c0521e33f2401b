"""The training-objective plug-in: one per method, registered by name.

An objective turns ``(model, batch, progress)`` into a scalar loss plus named terms for the log.
It is an ``nn.Module`` because some objectives own trainable parts used only in training
(e.g. the directional gradient network of ``timelapse``); the trainer optimises them with the
model but exports only the model.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import nn

from derain.models.base import DerainModel
from derain.registry import Registry

__all__ = ["OBJECTIVES", "Objective", "ObjectiveKind"]

ObjectiveKind = Literal["paired", "timelapse", "video"]


class Objective(nn.Module):
    """Base class for training objectives.

    Attributes:
        kind: which batches it consumes -- ``paired`` (``rain``/``clean``), ``timelapse``
            (``frames``: two rainy frames of one static scene, never a clean image) or ``video``.
    """

    kind: ClassVar[ObjectiveKind]

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:  # pragma: no cover - abstract
        """Return ``(loss, terms)``; ``progress`` is ``step / total_steps`` in [0, 1]."""
        raise NotImplementedError


OBJECTIVES: Registry[type[Objective]] = Registry("objective")
