"""``baseline``: a small residual U-Net trained supervised on synthetic pairs.

It is the project's control model, not a paper's method: every method is compared with it.
It predicts the rain layer ``R`` and returns ``B = clamp(I - R, 0, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from derain.layers import DoubleConv, ResidualBlock
from derain.models.base import UNET_RADIUS, DerainModel, ModelOutput, Tiling, pad_to_multiple
from derain.models.registry import ModelSpec, register_model
from derain.schema import NonNegativeInt, PositiveInt

__all__ = ["BaselineConfig", "BaselineUNet"]


@dataclass(frozen=True)
class BaselineConfig:
    """Hyper-parameters of :class:`BaselineUNet`.

    Attributes:
        channels: width of each U-Net level, shallow to deep; one pooling between levels.
        bottleneck_blocks: residual blocks at the deepest level.
    """

    channels: tuple[PositiveInt, ...] = (24, 48, 96)
    bottleneck_blocks: NonNegativeInt = 2


class BaselineUNet(DerainModel):
    """Residual U-Net: encoder (max-pool), decoder (bilinear up + skip concat), rain = last conv."""

    tiling = Tiling.local(UNET_RADIUS)

    def __init__(self, config: BaselineConfig = BaselineConfig()) -> None:
        super().__init__()
        self.config = config
        ch = list(config.channels)
        self.encoders = nn.ModuleList(DoubleConv(c_in, c_out) for c_in, c_out in zip([3, *ch[:-1]], ch, strict=True))
        self.bottleneck = nn.Sequential(*(ResidualBlock(ch[-1]) for _ in range(config.bottleneck_blocks)))
        self.decoders = nn.ModuleList(DoubleConv(ch[i + 1] + ch[i], ch[i]) for i in reversed(range(len(ch) - 1)))
        self.head = nn.Conv2d(ch[0], 3, 3, padding=1)
        self.size_divisor = 2 ** (len(ch) - 1)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        padded, (h, w) = pad_to_multiple(x, self.size_divisor)
        skips = []
        feat = padded
        for i, enc in enumerate(self.encoders):
            feat = enc(feat if i == 0 else F.max_pool2d(feat, 2))
            skips.append(feat)
        feat = self.bottleneck(feat)
        for dec, skip in zip(self.decoders, reversed(skips[:-1]), strict=True):
            feat = F.interpolate(feat, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            feat = dec(torch.cat([feat, skip], dim=1))
        rain = self.head(feat)[..., :h, :w]
        return ModelOutput(background=(x - rain).clamp(0.0, 1.0), rain=rain)


register_model(
    ModelSpec(
        name="baseline",
        config_cls=BaselineConfig,
        build=BaselineUNet,
        config=BaselineConfig(),
        tiny={"channels": (4, 8), "bottleneck_blocks": 1},
    )
)
