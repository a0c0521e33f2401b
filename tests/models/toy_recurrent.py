"""A tiny recurrent video model for the tests only: ``SPEC`` (``testing.recurrent``) is registered by
``test_registry.py`` for the duration of that module, so it never shows in ``derain models``.

It exercises the video contract end to end (training with truncated BPTT, validation on clips,
streaming through the engine) without a real video family: the hidden state is a ``(B, C, H, W)``
feature map mixed with each new frame by one 3x3 conv.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from derain.models import DerainModel, ModelOutput, ModelSpec
from derain.models.base import Tiling

NAME = "testing.recurrent"


@dataclass(frozen=True)
class ToyConfig:
    channels: int = 4


class ToyRecurrent(DerainModel):
    """``h_t = tanh(conv([x_t, h_{t-1}]))``, ``rain_t = conv(h_t)``, ``B_t = clamp(x_t - rain_t)``."""

    is_video = True
    tiling = Tiling.local(2)  # two 3x3 convs per frame

    def __init__(self, config: ToyConfig = ToyConfig()) -> None:
        super().__init__()
        self.config = config
        self.mix = nn.Conv2d(3 + config.channels, config.channels, 3, padding=1)
        self.head = nn.Conv2d(config.channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple[ModelOutput, torch.Tensor]:
        if state is None:
            state = x.new_zeros(x.shape[0], self.config.channels, *x.shape[-2:])
        hidden = torch.tanh(self.mix(torch.cat([x, state], dim=1)))
        rain = self.head(hidden)
        return ModelOutput(background=(x - rain).clamp(0.0, 1.0), rain=rain), hidden


SPEC = ModelSpec(name=NAME, config_cls=ToyConfig, build=ToyRecurrent, config=ToyConfig())
