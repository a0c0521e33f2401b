"""Derain a stream of frames, carrying a video model's recurrent state from frame to frame.

Video-model contract (``model.is_video``, :mod:`derain.models.base`): ``model(x, state) -> (output,
state)`` with one frame ``x`` of shape ``(B, 3, H, W)``; ``state=None`` starts a clip. Frames larger
than a tile keep one state per tile position, so tiling and recurrence combine without extra memory
per frame. Single-image models simply run frame by frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from derain.inference.convert import to_batch
from derain.inference.engine import Engine, Step, image_step
from derain.models.base import DerainModel

__all__ = ["RecurrentStep", "derain_frames", "make_step"]


class RecurrentStep:
    """A :data:`~derain.inference.engine.Step` for video models: one recurrent state per tile position."""

    def __init__(self, model: DerainModel) -> None:
        self.model = model
        self.states: dict[tuple[int, int], Any] = {}

    def __call__(self, tile: torch.Tensor, key: tuple[int, int]) -> torch.Tensor:
        out, self.states[key] = self.model(tile, self.states.get(key))
        return out.background


def make_step(model: DerainModel) -> Step:
    """A fresh step for ``model``: recurrent (empty state) for video models, plain otherwise."""
    return RecurrentStep(model) if model.is_video else image_step(model)


def derain_frames(model: DerainModel, engine: Engine, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Yield each float ``(H, W, 3)`` frame derained, in order (lazily: one frame in memory at a time)."""
    step = make_step(model)
    for frame in frames:
        x, restore = to_batch(frame)
        yield restore(engine.run(step, x))
