"""Objectives of video models: unroll a clip frame by frame and score the per-frame outputs.

A video batch holds ``rain`` ``(B, T, 3, H, W)`` (and ``clean`` where the clips have it). The
trainer may cut it into windows of ``train.tbptt`` frames and call the objective once per window,
carrying the (detached) recurrent state from one window to the next -- truncated back-propagation
through time. A subclass only says how the outputs of one window are scored (:meth:`clip_loss`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch.nn import functional as F

from derain.models.base import DerainModel, ModelOutput
from derain.train.objectives.base import OBJECTIVES, Objective

__all__ = ["VideoObjective", "VideoSupervised", "detach_state", "time_windows"]


class VideoObjective(Objective):
    """Base class: ``forward(model, batch, progress, state) -> (loss, terms, state)``."""

    kind = "video"

    def forward(  # type: ignore[override]
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float, state: Any = None
    ) -> tuple[torch.Tensor, dict[str, float], Any]:
        """Run ``model`` over ``batch["rain"]`` from ``state``; score the frames with :meth:`clip_loss`."""
        outputs: list[ModelOutput] = []
        for t in range(batch["rain"].shape[1]):
            out, state = model(batch["rain"][:, t], state)
            outputs.append(out)
        loss, terms = self.clip_loss(outputs, batch, progress)
        return loss, terms, state

    def clip_loss(
        self, outputs: list[ModelOutput], batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:  # pragma: no cover - abstract
        """``(loss, terms)`` of one window: ``outputs[t]`` belongs to frame ``t`` of ``batch``."""
        raise NotImplementedError


@OBJECTIVES.register("video_supervised")
class VideoSupervised(VideoObjective):
    """Mean over frames of ``|B_t - clean_t|`` (the video counterpart of ``supervised``)."""

    def clip_loss(
        self, outputs: list[ModelOutput], batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        background = torch.stack([out.background for out in outputs], dim=1)
        loss = F.l1_loss(background.float(), batch["clean"].float())
        return loss, {"l1": float(loss.detach())}


def time_windows(batch: dict[str, Any], frames: int | None) -> list[dict[str, Any]]:
    """Cut a clip batch into windows of ``frames`` frames along time (every 5-D tensor ``(B, T, ...)``).

    ``frames=None`` keeps the whole clip; other values (names) are shared by all windows.
    """
    length = batch["rain"].shape[1]
    if frames is None or frames >= length:
        return [batch]
    starts = range(0, length, frames)
    return [
        {k: v[:, t : t + frames] if torch.is_tensor(v) and v.ndim == 5 else v for k, v in batch.items()} for t in starts
    ]


def detach_state(state: Any) -> Any:
    """``state`` with every tensor detached (tensors, tuples, lists, dicts and dataclasses of them)."""
    if torch.is_tensor(state):
        return state.detach()
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {k: detach_state(v) for k, v in state.items()}
    if dataclasses.is_dataclass(state) and not isinstance(state, type):
        return dataclasses.replace(
            state, **{f.name: detach_state(getattr(state, f.name)) for f in dataclasses.fields(state)}
        )
    return state
