"""``timelapse``: the deraining network of Cho et al. 2020, trained on time-lapse data only.

Paper: J. Cho, S. Kim, D. Min, K. Sohn, "Single Image Deraining Using Time-Lapse Data",
IEEE TIP 2020 (seed ``000``). Three VGG-like encoders with 3x3/5x5/7x7 kernels (Table I), a
dynamic fusion module whose filter generator predicts a per-position ``(3C -> C)`` 1x1 filter
at 1/8 scale (eq. 9, Table II), a decoder with fixed-bilinear transposed convolutions and skips
from *all three* encoders, and ``B = clamp(I - S, 0, 1)``.

Choices where the paper is vague (also in ``docs/methods/timelapse.md``):

* The tables describe a 1-channel network; we default to RGB. With ``in_channels=1`` each
  colour channel goes through the network as its own grey image (channels folded into batch).
* The generated filter is applied without a bias and scaled by ``1/sqrt(3C)``, which keeps the
  fused feature's magnitude independent of the width at initialisation (it is a bilinear form
  of the features, so without it the output grows with ``sqrt(3C)``).
* No activation follows any fusion; every other conv except the last is followed by ReLU.
* ``sum`` and ``product`` fuse element-wise; ``concat`` is a learned 1x1 conv ``3C -> C``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from derain.errors import ConfigError
from derain.layers import ConvAct
from derain.layers.upsample import BilinearUpsample2x
from derain.models.base import UNET_RADIUS, DerainModel, ModelOutput, Tiling, pad_to_multiple
from derain.models.registry import ModelSpec, register_model
from derain.schema import PositiveInt, require

__all__ = ["DynamicFusion", "Fusion", "TimelapseConfig", "TimelapseNet"]

Fusion = Literal["dynamic", "concat", "sum", "product"]


@dataclass(frozen=True)
class TimelapseConfig:
    """Hyper-parameters of :class:`TimelapseNet`.

    Attributes:
        widths: channels of the three encoder stages (paper: 64, 128, 256).
        depths: convs per encoder stage (paper, VGG: 2, 2, 3); the decoder mirrors them.
        kernels: one encoder per kernel size (paper: 3, 5, 7).
        fusion: how the encoders' 1/8-scale features are fused (Table VII).
        in_channels: 3 (RGB, default) or 1 (each colour channel processed separately).
    """

    widths: tuple[PositiveInt, PositiveInt, PositiveInt] = (64, 128, 256)
    depths: tuple[PositiveInt, PositiveInt, PositiveInt] = (2, 2, 3)
    kernels: tuple[PositiveInt, ...] = (3, 5, 7)
    fusion: Fusion = "dynamic"
    in_channels: Literal[1, 3] = 3

    def __post_init__(self) -> None:
        """What the architecture cannot build, named by key (the schema parser adds ``model.config.``)."""
        require(len(self.widths) == 3 and len(self.depths) == 3, "widths", "widths and depths need 3 stages")
        odd = bool(self.kernels) and all(k >= 1 and k % 2 == 1 for k in self.kernels)
        require(odd, "kernels", f"must be odd sizes, at least one (got {self.kernels})")
        require(self.in_channels in (1, 3), "in_channels", f"must be 1 or 3 (got {self.in_channels})")


class DynamicFusion(nn.Module):
    """Per-position dynamic 1x1 filter (eq. 9): ``out[o] = sum_i W(f)[o, i] f[i] / sqrt(n_in)``.

    Args:
        in_ch: channels of the concatenated features (``3C``).
        out_ch: fused channels (``C``).
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.in_ch, self.out_ch = in_ch, out_ch
        self.generator = nn.Conv2d(in_ch, in_ch * out_ch, 1)  # ``mk_dyn_filter``
        self.scale = 1.0 / math.sqrt(in_ch)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Fuse ``(B, 3C, h, w)`` into ``(B, C, h, w)`` with filters generated from ``feats``."""
        b, _, h, w = feats.shape
        filters = self.generator(feats).view(b, self.out_ch, self.in_ch, h, w)
        return torch.einsum("boihw,bihw->bohw", filters, feats) * self.scale


class _Fuse(nn.Module):
    """Fuses a list of same-shape encoder features by one of the Table VII methods."""

    def __init__(self, fusion: Fusion, width: int, n: int) -> None:
        super().__init__()
        self.fusion = fusion
        if fusion == "dynamic":
            self.op: nn.Module | None = DynamicFusion(n * width, width)
        elif fusion == "concat":
            self.op = nn.Conv2d(n * width, width, 1)
        elif fusion in ("sum", "product"):
            self.op = None
        else:
            raise ConfigError(f"model.config.fusion: must be dynamic, concat, sum or product (got {fusion!r})")

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        if self.op is not None:
            return self.op(torch.cat(feats, dim=1))
        if self.fusion == "sum":
            return torch.stack(feats).sum(0)
        return torch.stack(feats).prod(0)


class _Encoder(nn.Module):
    """VGG-like encoder with one kernel size; returns the pre-pool features and the 1/8 output."""

    def __init__(self, in_ch: int, widths: tuple[int, ...], depths: tuple[int, ...], kernel: int) -> None:
        super().__init__()
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvAct(c_in if i == 0 else c_out, c_out, kernel) for i in range(depth)))
            for c_in, c_out, depth in zip([in_ch, *widths[:-1]], widths, depths, strict=True)
        )

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        return skips, x


def _decoder_level(n_skips: int, width: int, depth: int, out: int | None) -> nn.Sequential:
    """``conv_l`` on ``[upsampled, n_skips encoder skips]``, ``depth - 1`` more convs, then one to ``out``.

    At paper width this gives Table II (e.g. conv3 1024->256, inv-conv3_3/3_2 256->256,
    inv-conv3_1 256->128); the shallowest level has no ``out`` conv (the head follows).
    """
    convs = [ConvAct((n_skips + 1) * width, width), *(ConvAct(width, width) for _ in range(depth - 1))]
    if out is not None:
        convs.append(ConvAct(width, out))
    return nn.Sequential(*convs)


class TimelapseNet(DerainModel):
    """Multi-scale encoders -> fusion -> decoder predicting the rain layer ``S``; ``B = clamp(I - S)``.

    Tiling: local with an effective radius of 8 px (:data:`~derain.models.base.UNET_RADIUS`).
    """

    size_divisor = 8
    tiling = Tiling.local(UNET_RADIUS)

    def __init__(self, config: TimelapseConfig = TimelapseConfig()) -> None:
        super().__init__()
        self.config = config
        widths, n = config.widths, len(config.kernels)
        self.encoders = nn.ModuleList(_Encoder(config.in_channels, widths, config.depths, k) for k in config.kernels)
        self.fuse = _Fuse(config.fusion, widths[-1], n)
        self.ups = nn.ModuleList(BilinearUpsample2x(c) for c in widths)
        nexts = (None, *widths[:-1])
        self.decoders = nn.ModuleList(
            _decoder_level(n, *level) for level in zip(widths, config.depths, nexts, strict=True)
        )
        self.head = nn.Conv2d(widths[0], config.in_channels, 3, padding=1)  # ``inv-conv1_1``, no ReLU
        self._init_relu_convs()

    def _init_relu_convs(self) -> None:
        """He-normal weights and zero biases for the ReLU convs (PyTorch's default is ~3x smaller).

        At narrow widths the default leaves whole layers dead from the first step (every unit
        negative on every input), which cuts the deep branch off the gradient.
        """
        for module in [*self.encoders.modules(), *self.decoders.modules()]:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        """Derain ``(B, 3, H, W)`` in [0, 1]; ``rain`` is the unclipped ``S``."""
        padded, (h, w) = pad_to_multiple(x, self.size_divisor)
        inp = padded.reshape(-1, 1, *padded.shape[-2:]) if self.config.in_channels == 1 else padded
        outputs = [enc(inp) for enc in self.encoders]
        feat = self.fuse([deep for _, deep in outputs])
        for level in reversed(range(len(self.decoders))):
            level_skips = [skips[level] for skips, _ in outputs]
            feat = self.decoders[level](torch.cat([self.ups[level](feat), *level_skips], dim=1))
        rain = self.head(feat).reshape(padded.shape)[..., :h, :w]
        return ModelOutput(background=(x - rain).clamp(0.0, 1.0), rain=rain)


#: Narrow default, chosen by measurement (see docs/methods/timelapse.md).
NARROW = TimelapseConfig(widths=(8, 16, 32), kernels=(1, 3, 5))

#: Few channels for the registry-wide tests.
TINY = {"widths": (4, 4, 4), "depths": (1, 1, 1), "kernels": (1, 3)}

register_model(ModelSpec(name="timelapse", config_cls=TimelapseConfig, build=TimelapseNet, config=NARROW, tiny=TINY))
# The paper's Tables I-II widths (~150 M parameters); no bundled weights.
register_model(
    ModelSpec(
        name="timelapse.paper", config_cls=TimelapseConfig, build=TimelapseNet, config=TimelapseConfig(), tiny=TINY
    )
)
