"""The one model contract every derainer follows.

A model is an ``nn.Module`` taking ``(B, 3, H, W)`` floats in [0, 1] (video models:
``(B, T, 3, H, W)``) and returning a :class:`ModelOutput`. It handles any ``H x W`` itself
(padding to ``size_divisor`` and cropping back); the inference engine additionally pads tiles
to ``size_divisor`` so the internal padding is a no-op on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["DerainModel", "ModelOutput", "pad_to_multiple"]


@dataclass
class ModelOutput:
    """What a model returns.

    Attributes:
        background: derained image, same shape as the input, in [0, 1].
        rain: estimated rain layer (input - background before clipping), if the method has one.
        extras: method-specific tensors (attention maps, occlusion alpha, memory read weights,
            recurrent state ...), keyed by name. Losses read them; inference ignores them.
    """

    background: torch.Tensor
    rain: torch.Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class DerainModel(nn.Module):
    """Base class: declares what the engine needs to know about a model."""

    #: Input sides must be a multiple of this (number of poolings -> 2**n).
    size_divisor: int = 1
    #: Video models take ``(B, T, 3, H, W)`` and a recurrent ``state`` keyword.
    is_video: ClassVar[bool] = False

    def forward(self, x: torch.Tensor) -> ModelOutput:  # pragma: no cover - abstract
        raise NotImplementedError


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad the last two dims of ``x`` up to a multiple; return padded tensor and (H, W).

    Reflection needs the pad to be smaller than the side, so tiny inputs fall back to
    replicate padding.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    mode = "reflect" if ph < h and pw < w else "replicate"
    flat = x.reshape(-1, *x.shape[-3:])
    padded = F.pad(flat, (0, pw, 0, ph), mode=mode)
    return padded.reshape(*x.shape[:-2], h + ph, w + pw), (h, w)
