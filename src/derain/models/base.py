"""The one model contract every derainer follows.

* **Image models** (``is_video = False``): ``forward(x) -> ModelOutput`` with ``x`` of shape
  ``(B, 3, H, W)``, floats in [0, 1].
* **Video models** (``is_video = True``): ``forward(x, state) -> (ModelOutput, state)``, one frame
  ``(B, 3, H, W)`` per call. ``state`` is whatever the model needs to carry (a tensor, a tuple, a
  small dataclass); ``None`` starts a clip. Training unrolls clips frame by frame (truncated BPTT),
  validation and inference carry the state causally.

Every model handles any ``H x W`` itself (padding to ``size_divisor`` and cropping back); the
inference engine additionally pads tiles to ``size_divisor`` so the internal padding is a no-op on
the hot path. Every model declares a :class:`Tiling` policy (its receptive field), from which the
engine picks tile size and overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["UNET_RADIUS", "DerainModel", "ModelOutput", "Tiling", "pad_to_multiple"]

#: Effective receptive-field radius (px) of the project's pooling U-Nets (baseline, memory, timelapse).
#: Their theoretical span after three poolings is larger than any useful tile, but far pixels weigh
#: little: 8 px gives a 32 px overlap, with which tiled and untiled runs of these models differ by
#: < 1e-3 on average (``tests/inference/test_engine.py``).
UNET_RADIUS = 8


@dataclass
class ModelOutput:
    """What a model returns: the derained image plus the extras its losses or tools read.

    Only ``background`` is required; inference ignores everything else. A family that needs a new
    extra adds a typed field here (one place lists what every model may return).

    Attributes:
        background: derained image, same shape as the input, in [0, 1].
        rain: estimated rain layer (input - background before clipping), if the method has one.
        attention: spatial attention maps, each ``(B, 1, H, W)`` (spanet's SAMs), shallow to deep.
        alpha: occlusion / degradation map or its logits, ``(B, 1, H, W)`` (j4r).
        segmentation: segmentation logits ``(B, K, H, W)`` (php's head).
        coarse: the first-stage derained image ``(B, 3, H, W)`` of a two-stage model (php's ``X^c``).
        query: encoder features that query a memory, ``(B, C, h, w)`` at the padded coarse scale
            (memory; the BSW loss reads them).
        read_weights: memory read weights ``(B, M, h, w)`` (memory; ``derain inspect`` shows them).
        detail: high-pass detail of the background predicted from the recurrent memory, in the
            model's colour space (j4r's C-Net, ``E(B_t)``; training only).
    """

    background: torch.Tensor
    rain: torch.Tensor | None = None
    attention: tuple[torch.Tensor, ...] | None = None
    alpha: torch.Tensor | None = None
    segmentation: torch.Tensor | None = None
    coarse: torch.Tensor | None = None
    query: torch.Tensor | None = None
    read_weights: torch.Tensor | None = None
    detail: torch.Tensor | None = None


@dataclass(frozen=True)
class Tiling:
    """A model's receptive field, as far as tiling cares.

    Attributes:
        kind: ``local`` -- an output pixel depends on inputs within ``radius`` px, so tiles that
            overlap by ``4 * radius`` blend to the untiled result (the blend window ignores the outer
            quarter of each overlap). ``global`` -- outputs depend on whole rows and columns (e.g. an
            IRNN), so tiling changes the result; the engine runs such a model untiled while the image
            fits its memory budget and otherwise uses the widest tiles that do.
        radius: ``local`` only: the effective radius in input pixels. It is the distance beyond
            which the input's influence is negligible, not the theoretical span of every conv (which,
            for a U-Net, is larger than any useful tile); each model says how it chose it.
        bytes_per_pixel: ``global`` only: peak activation bytes per input pixel at batch 1, float32,
            from which the engine decides whether an image fits its budget.
    """

    kind: Literal["local", "global"]
    radius: int = 0
    bytes_per_pixel: int = 0

    def __post_init__(self) -> None:
        if self.kind == "local" and self.radius < 1:
            raise ValueError(f"local tiling needs radius >= 1 (got {self.radius})")
        if self.kind == "global" and self.bytes_per_pixel < 1:
            raise ValueError(f"global tiling needs bytes_per_pixel >= 1 (got {self.bytes_per_pixel})")

    @classmethod
    def local(cls, radius: int) -> Tiling:
        return cls("local", radius=radius)

    @classmethod
    def global_(cls, bytes_per_pixel: int) -> Tiling:
        return cls("global", bytes_per_pixel=bytes_per_pixel)


class DerainModel(nn.Module):
    """Base class: declares what the engine and the trainer need to know about a model.

    Subclasses set ``tiling`` (a class attribute, or in ``__init__`` when it depends on the config)
    and, if they pool, ``size_divisor``.
    """

    #: Input sides must be a multiple of this (number of poolings -> 2**n).
    size_divisor: int = 1
    #: Video models take one frame and a recurrent state; see the module docstring.
    is_video: ClassVar[bool] = False
    #: Receptive field, from which the engine picks tile size and overlap (required).
    tiling: Tiling

    def forward(self, x: torch.Tensor, *args: Any) -> Any:  # pragma: no cover - abstract
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
