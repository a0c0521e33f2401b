"""The training-objective plug-in: one per method, registered by name.

An objective turns ``(model, batch, progress)`` into a scalar loss plus named terms for the log.
It is an ``nn.Module`` because some objectives own trainable parts used only in training
(e.g. the directional gradient network of ``timelapse``); the trainer optimises them with the
model but exports only the model.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from derain.data.items import ItemKind
from derain.errors import ConfigError
from derain.models.base import DerainModel
from derain.registry import Registry
from derain.schema import parse_kwargs

__all__ = ["OBJECTIVES", "Objective", "ObjectiveKind", "build_objective", "weighted_sum"]

#: The dataset item kind an objective consumes (:mod:`derain.data.items`).
ObjectiveKind = ItemKind


class Objective(nn.Module):
    """Base class for training objectives.

    Attributes:
        kind: which batches it consumes -- ``paired`` (``rain``/``clean``), ``timelapse``
            (``frames``: two rainy frames of one static scene, never a clean image) or ``video``
            (clips for video models: subclass :class:`~derain.train.objectives.video.VideoObjective`,
            which unrolls the model and hands the per-frame outputs to ``clip_loss``).
    """

    kind: ClassVar[ObjectiveKind]

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:  # pragma: no cover - abstract
        """Return ``(loss, terms)``; ``progress`` is ``step / total_steps`` in [0, 1]."""
        raise NotImplementedError


OBJECTIVES: Registry[type[Objective]] = Registry("objective")


def build_objective(name: str, options: dict[str, object], key: str = "objective.options") -> Objective:
    """Build registered objective ``name`` with ``options`` checked against its constructor's typed signature.

    Raises:
        ConfigError: unknown objective, or an unknown, mistyped or out-of-range option (named ``<key>.<option>``).
    """
    objective_cls = OBJECTIVES.get(name)
    return objective_cls(**parse_kwargs(objective_cls, options, key))


def weighted_sum(
    terms: dict[str, torch.Tensor], weights: dict[str, float], *, prefix: str = ""
) -> tuple[torch.Tensor, dict[str, float]]:
    """``sum(weights[name] * term)`` and the unweighted terms as floats for the log (named ``prefix + name``).

    Raises:
        ConfigError: no term at all (every weight is 0), so there is nothing to train.
    """
    if not terms:
        raise ConfigError("objective.options: every loss weight is 0; nothing to train")
    total = sum(weights[name] * value for name, value in terms.items())
    return total, {f"{prefix}{name}": float(value.detach()) for name, value in terms.items()}
