"""``fastnet``: the default derainer, designed for quality per CPU-millisecond.

A NAFNet-style U-Net (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022: gated blocks
with SimpleGate, LayerNorm, optional simplified channel attention, no non-linear activation) that starts
with a pixel-unshuffle, so every convolution runs at half resolution or less. It predicts the rain
layer ``R`` at full resolution (pixel-shuffle at the end) and returns ``B = clamp(I - R, 0, 1)``.

Choices (measured in ``docs/methods/fastnet.md``; NAFNet itself does not unshuffle):
- ``unshuffle=2``: 2x2 pixels become 12 channels; the first level then works at 1/2 resolution,
  which cut the CPU time of a 512^2 image about 6x for the same width and depth.
- downsampling: a 2x2 stride-2 convolution; upsampling: 1x1 convolution + pixel-shuffle; skips are
  added, not concatenated (all as in NAFNet).
- the depthwise 3x3 of NAFNet's block is kept; the FFN expansion is 2 (NAFNet's default).
- NAFNet's simplified channel attention (a global pool) is off by default: see ``channel_attention``.
- the per-block residual scales (``beta``, ``gamma``) start at zero as in NAFNet, so an untrained
  block is the identity.
- intensity routing (``route_low``/``route_high``/``route_blend``, off by default): a second, heavy-rain
  expert of the same architecture takes over per image as the rain grows (:mod:`derain.models.routing`,
  joined by ``scripts/route_experts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from derain.models.base import UNET_RADIUS, ModelOutput, Tiling, pad_to_multiple
from derain.models.registry import ModelSpec, register_model
from derain.models.routing import RoutableModel, RouteConfig
from derain.schema import NonNegativeInt, PositiveInt, require

__all__ = ["FastNet", "FastNetConfig"]


@dataclass(frozen=True)
class FastNetConfig(RouteConfig):
    """Hyper-parameters of :class:`FastNet` (and, inherited, the intensity routing's: :class:`RouteConfig`).

    Attributes:
        width: channels of the first level (after the unshuffle); each deeper level doubles it.
        enc_blocks: gated blocks per encoder level, shallow to deep; one downsampling after each.
        middle_blocks: gated blocks at the deepest level.
        dec_blocks: gated blocks per decoder level, deep to shallow (same count as ``enc_blocks``).
        unshuffle: pixel-unshuffle factor of the input (1 = full resolution).
        channel_attention: NAFNet's simplified channel attention (a global average pool per block).
            Off by default: every output pixel then depends on a bounded neighbourhood only, so tiled
            and untiled runs agree, and the pooled statistics of 128-px training crops never meet the
            different statistics of a 512-px inference tile (the train/test gap of NAFNet's TLC paper).
    """

    width: PositiveInt = 24
    enc_blocks: tuple[NonNegativeInt, ...] = (1, 1, 2)
    middle_blocks: NonNegativeInt = 4
    dec_blocks: tuple[NonNegativeInt, ...] = (1, 1, 1)
    unshuffle: PositiveInt = 2
    channel_attention: bool = False

    def __post_init__(self) -> None:
        """One decoder level per encoder level (the parser adds ``model.config.``)."""
        super().__post_init__()
        n_enc, n_dec = len(self.enc_blocks), len(self.dec_blocks)
        require(n_enc == n_dec, "dec_blocks", f"needs one entry per enc_blocks level ({n_dec} vs {n_enc})")


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a ``(B, C, H, W)`` tensor, with a per-channel affine."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        y = (x - mean) * torch.rsqrt(var + self.eps)
        return y * self.weight[:, None, None] + self.bias[:, None, None]


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them (NAFNet's activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class GatedBlock(nn.Module):
    """NAFNet block: LN, 1x1, depthwise 3x3, SimpleGate, channel attention, 1x1; then a gated FFN."""

    def __init__(self, channels: int, attention: bool) -> None:
        super().__init__()
        c2 = channels * 2
        self.norm1 = LayerNorm2d(channels)
        self.expand = nn.Conv2d(channels, c2, 1)
        self.depthwise = nn.Conv2d(c2, c2, 3, padding=1, groups=c2)
        self.gate = SimpleGate()
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1)) if attention else None
        self.project = nn.Conv2d(channels, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.ffn_in = nn.Conv2d(channels, c2, 1)
        self.ffn_out = nn.Conv2d(channels, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gate(self.depthwise(self.expand(self.norm1(x))))
        if self.attention is not None:
            y = y * self.attention(y)
        y = self.project(y)
        x = x + y * self.beta
        y = self.ffn_out(self.gate(self.ffn_in(self.norm2(x))))
        return x + y * self.gamma


def _stage(channels: int, blocks: int, attention: bool) -> nn.Sequential:
    return nn.Sequential(*(GatedBlock(channels, attention) for _ in range(blocks)))


#: Peak activation bytes per input pixel with channel attention (CPU, float32, batch 1): ~450 B/px
#: measured as the RSS growth of one 1024^2 forward pass, rounded up.
_BYTES_PER_PIXEL = 512


class FastNet(RoutableModel):
    """Pixel-unshuffle, gated U-Net at 1/2 resolution and below, pixel-shuffle back to the rain layer.

    Tiling: local with the U-Nets' effective radius (:data:`~derain.models.base.UNET_RADIUS`); with
    ``channel_attention`` every block pools the whole input, and a routed model measures the rain of the
    whole input, so their policy is global.
    """

    def __init__(self, config: FastNetConfig = FastNetConfig()) -> None:
        super().__init__()
        self.config = config
        r, w, ca = config.unshuffle, config.width, config.channel_attention
        widths = [w * 2**i for i in range(len(config.enc_blocks) + 1)]
        self.intro = nn.Sequential(nn.PixelUnshuffle(r), nn.Conv2d(3 * r * r, w, 3, padding=1))
        self.encoders = nn.ModuleList(_stage(c, n, ca) for c, n in zip(widths, config.enc_blocks, strict=False))
        self.downs = nn.ModuleList(nn.Conv2d(c, 2 * c, 2, stride=2) for c in widths[:-1])
        self.middle = _stage(widths[-1], config.middle_blocks, ca)
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(2 * c, 4 * c, 1, bias=False), nn.PixelShuffle(2)) for c in reversed(widths[:-1])
        )
        self.decoders = nn.ModuleList(
            _stage(c, n, ca) for c, n in zip(reversed(widths[:-1]), config.dec_blocks, strict=True)
        )
        self.outro = nn.Sequential(nn.Conv2d(w, 3 * r * r, 3, padding=1), nn.PixelShuffle(r))
        self.size_divisor = r * 2 ** len(config.enc_blocks)
        self.tiling = Tiling.global_(_BYTES_PER_PIXEL) if ca or config.route_high else Tiling.local(UNET_RADIUS)
        self.add_heavy_expert()

    def expert(self, x: torch.Tensor) -> ModelOutput:
        padded, (h, w) = pad_to_multiple(x, self.size_divisor)
        feat = self.intro(padded)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            feat = encoder(feat)
            skips.append(feat)
            feat = down(feat)
        feat = self.middle(feat)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            feat = decoder(up(feat) + skip)
        rain = self.outro(feat)[..., :h, :w]
        return ModelOutput(background=(x - rain).clamp(0.0, 1.0), rain=rain)


register_model(
    ModelSpec(
        name="fastnet",
        config_cls=FastNetConfig,
        build=FastNet,
        config=FastNetConfig(),
        tiny={"width": 4, "enc_blocks": (1, 1), "middle_blocks": 1, "dec_blocks": (1, 1)},
    )
)
