"""``spanet``: SPatial Attentive Network (Wang et al., CVPR 2019, seed paper 002), as the authors released it.

The paper's Fig. 5 (three RBs, four SABs of three SARBs with a SAM each, two RBs) is realised in
the release as one stack of 17 bottleneck residual blocks at 32 channels:

* ``3x3`` conv 3 -> 32 + ReLU;
* 17 blocks ``1x1 -> ReLU -> 3x3 (dilation 2) -> ReLU -> 1x1`` (no biases), each
  ``out = ReLU(block(out) * A + out)``; blocks 4-15 are gated in four groups of three by attention
  maps ``A1..A4``, all four computed by **one shared** SAM (the paper's best variant B_f, Table 4);
  blocks 1-3 and 16-17 are ungated (``A = 1``);
* ``3x3`` conv 32 -> 3 predicting the clean image (the release predicts it directly).

SAM: ``1x1`` conv -> IRNN (four directions, concatenated: 128 ch) -> ``1x1`` to 32 -> IRNN ->
concatenated -> ``1x1`` to 32 + ReLU -> ``1x1`` to 1 -> sigmoid; a direction branch (``3x3``
32 -> 16, ReLU, ``3x3`` 16 -> 16, ReLU, ``1x1`` 16 -> 4, sigmoid) weights the four directions of
both IRNN rounds. In the release those products are computed and discarded (``Tensor.mul`` is not
in-place), so the branch has no effect there; here the weights multiply the directions, and
``release_noop_direction_weights=True`` reproduces the release.

Choices where the paper and DESIGN.md are vague (also in ``docs/methods/spanet.md``):

* The release's SAM also defines a ``3x3`` conv that its forward never calls; it is left out (it
  would add 9,216 parameters that never train).
* Convolutions outside the bottlenecks and the direction branch have no bias, like the release's
  ``conv3x3``/``conv1x1`` helpers; the SAM's ``1x1`` convs and the direction branch have biases.
* IRNN: the release's kernel (edge pixel ``max(x, 0)``, no bias there), recurrent weight 0.2,
  bias 0 at init (the IRNN recipe: identity-like start, no offset).
* ``residual=True`` (not the release) predicts ``B = I + conv_out(...)``: with the short CPU
  budgets of this project a network that must first learn to reproduce the image lags behind;
  ``configs/spanet.yaml`` says which one the bundled weights use.
* The output ``background`` is clipped to [0, 1]; ``rain = I - B`` before clipping, so the loss can
  use the unclipped prediction ``I - rain`` (the release never clips).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import torch
from torch import nn

from derain.layers.irnn import IRNN
from derain.models.base import DerainModel, ModelOutput, Tiling
from derain.models.registry import ModelSpec, register_model
from derain.schema import Range

__all__ = ["Bottleneck", "SpaNet", "SpaNetConfig", "SpatialAttentionModule"]

#: Index ranges (0-based) of the blocks gated by A1..A4: blocks 4-6, 7-9, 10-12, 13-15.
_GATED = tuple(range(3 + 3 * k, 6 + 3 * k) for k in range(4))


@dataclass(frozen=True)
class SpaNetConfig:
    """Hyper-parameters of :class:`SpaNet`.

    Attributes:
        channels: feature width (release: 32).
        blocks: bottleneck residual blocks (release: 17; blocks 4..15 are gated).
        release_noop_direction_weights: reproduce the release's SAM, whose direction weights have
            no effect (the branch is then not run at all).
        residual: predict ``B = I + f(I)`` instead of the release's ``B = f(I)``.
    """

    channels: Annotated[int, Range(min=2)] = 32
    blocks: Annotated[int, Range(min=15)] = 17
    release_noop_direction_weights: bool = False
    residual: bool = False


class Bottleneck(nn.Module):
    """``1x1 -> ReLU -> 3x3 dilation 2 -> ReLU -> 1x1``, no biases (the release's residual branch)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=2, dilation=2, bias=False),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor, gate: torch.Tensor | None = None) -> torch.Tensor:
        """``ReLU(body(x) * gate + x)``; no gate means ``gate = 1``."""
        branch = self.body(x)
        return torch.relu((branch if gate is None else branch * gate) + x)


class SpatialAttentionModule(nn.Module):
    """The SAM: two IRNN rounds weighted per direction, reduced to one sigmoid attention map.

    Args:
        channels: feature width.
        use_direction_weights: False reproduces the release (weights computed there, never applied).
    """

    def __init__(self, channels: int, use_direction_weights: bool = True) -> None:
        super().__init__()
        half = channels // 2
        self.use_direction_weights = use_direction_weights
        self.direction = nn.Sequential(
            nn.Conv2d(channels, half, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(half, half, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(half, 4, 1),
            nn.Sigmoid(),
        )
        self.conv_in = nn.Conv2d(channels, channels, 1)
        self.irnn1 = IRNN(channels)
        self.conv_mid = nn.Conv2d(4 * channels, channels, 1)
        self.irnn2 = IRNN(channels)
        self.conv_cat = nn.Conv2d(4 * channels, channels, 1)
        self.conv_out = nn.Conv2d(channels, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` features -> ``(B, 1, H, W)`` attention in (0, 1)."""
        weights = self.direction(x)[:, :, None] if self.use_direction_weights else None  # (B, 4, 1, H, W)
        feat = self.conv_mid(self._round(self.irnn1, self.conv_in(x), weights))
        feat = torch.relu(self.conv_cat(self._round(self.irnn2, feat, weights)))
        return torch.sigmoid(self.conv_out(feat))

    @staticmethod
    def _round(irnn: IRNN, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """Four directions, each times its weight map, concatenated along channels."""
        dirs = irnn(x)
        if weights is not None:
            dirs = dirs * weights
        return dirs.flatten(1, 2)


#: Peak activation bytes per input pixel (batch 1, float32, inference), estimated from the SAM's
#: largest live tensors (the four-direction IRNN outputs of 32 channels and their weighted copy,
#: ~1 KB/px each, plus the scans' stacked inputs); not measured.
_BYTES_PER_PIXEL = 4096


class SpaNet(DerainModel):
    """SPANet as released (see the module docstring).

    Output ``attention``: the four maps ``A1..A4``, each ``(B, 1, H, W)``; the attention loss
    supervises ``A1`` (the first SAM call). Tiling is ``global``: the IRNN reaches whole rows and
    columns, so the engine runs the model untiled while the image fits its memory budget.
    """

    tiling = Tiling.global_(_BYTES_PER_PIXEL)

    def __init__(self, config: SpaNetConfig = SpaNetConfig()) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.conv_in = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.ReLU())
        self.blocks = nn.ModuleList(Bottleneck(c) for _ in range(config.blocks))
        self.sam = SpatialAttentionModule(c, use_direction_weights=not config.release_noop_direction_weights)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        """Derain ``x`` ``(B, 3, H, W)`` in [0, 1]; any ``H x W`` (fully convolutional)."""
        feat = self.conv_in(x)
        attention = []
        gate = None
        for i, block in enumerate(self.blocks):
            if any(i == group[0] for group in _GATED):
                gate = self.sam(feat)
                attention.append(gate)
            elif not any(i in group for group in _GATED):
                gate = None
            feat = block(feat, gate)
        out = self.conv_out(feat)
        if self.config.residual:
            out = out + x
        return ModelOutput(background=out.clamp(0.0, 1.0), rain=x - out, attention=tuple(attention))


register_model(
    ModelSpec(
        name="spanet",
        config_cls=SpaNetConfig,
        build=SpaNet,
        config=SpaNetConfig(),
        tiny={"channels": 4},
    )
)
