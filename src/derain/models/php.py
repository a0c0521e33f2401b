"""``php``: intensity-aware deraining with parallel and hierarchical context pyramids (paper 004, Xu et al.).

Two sub-networks (the paper's Fig. 2): the first removes rain and restores structure and colour,
giving ``X^c`` (trained against a Gaussian low-pass of the clean image); the second refines
``X^c`` into ``X`` with the details. Both are :class:`SubNet` s: strided 3x3 convolutions down to a
low resolution, PHP blocks there, and a final 1x1 convolution whose outputs are rearranged back to
full resolution (pixel shuffle). The training-only segmentation network of the loss is a third
:class:`SubNet` of the same structure (``derain.train.objectives.php``), so it is never exported.

Choices the paper leaves open (docs/methods/php.md has the measurements behind them):

- **Resolution.** The first sub-network works at 1/4 resolution (two stride-2 convolutions), the
  second at 1/2. ``X^c`` is a low-pass target, so 1/4 loses little, and it is what makes the model
  fast on a CPU. The contrast-aware pooling therefore pools by 4, to join the stem's features.
- **Widths and depth** (``width=32, blocks=3`` / ``refine_width=16, refine_blocks=1``): from the
  speed/quality sweep (``benchmarks/php_sweep.py``).
- **Pyramid.** ``branches=4`` parallel dilated convolutions per block (the paper's k = 4); block
  ``b`` (0-based) uses dilations ``(b + 1) * (1, 2, 3, 4)``, so the hierarchy grows its context.
- **Refinement input.** The second sub-network sees ``[Y, X^c]``: details removed by the low-pass
  can only come back from the rainy input. Both outputs are residuals (``X^c = Y + r_1``,
  ``X = X^c + r_2``).
- ReLU after every convolution except the re-weighting's SELU (the paper names no activation).
- **Detail gate** (``detail_gate``, derain's addition, off by default). The second sub-network works
  at 1/2 resolution, so the finest texture of ``X`` must be re-synthesised through its 1x1 head;
  on light rain php altered rain-free texture more than ``baseline`` (php.md). With the gate it
  also predicts a weight ``g`` per pixel and channel and adds ``g * (Y - X^c)``: the input's own
  high frequencies, kept where there is no rain (``g`` near 1) and dropped on streaks (near 0).
- **Gate refinement** (``gate_refine``, derain's addition, off by default): two 3x3 convolutions at
  full resolution read ``[Y, X^c, g]`` and add a correction to ``g``. On light rain the 1/2-resolution
  gate stays near 0.87 even far from any streak (docs/methods/php.md, "The light-rain gap"); a
  full-resolution look at the input can tell a pixel with no thin bright line around it. The last
  convolution starts at zero, so weights without it load through ``model.init_map`` unchanged.
- **Intensity routing** (``route_low``/``route_high``/``route_blend``, derain's addition, off by default):
  a second, heavy-rain expert ``heavy`` of the same architecture takes over, per image, as the rain the
  network itself removes grows; inside the ramp either both experts' outputs or their weights are mixed
  (:mod:`derain.models.routing`; the two experts are trained alone and joined by ``scripts/route_experts.py``).
- **Layer scale** (``layer_scale``, derain's addition, off by default): each PHP block's residual is
  multiplied by a learnable per-channel scale, so ``scripts/php_grow.py`` can add blocks that start
  at exactly zero and still learn (blocks started with near-zero branch weights died: php.md).

Table IV variants are the ``pyramid`` and ``pooling`` switches (see :class:`PHPConfig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from derain.layers.pyramid import ContrastAwarePooling, PHPBlock, PoolingKind
from derain.models.base import ModelOutput, Tiling, pad_to_multiple
from derain.models.registry import ModelSpec, register_model
from derain.models.routing import RoutableModel, RouteConfig
from derain.schema import NonNegativeInt, PositiveInt, require

__all__ = ["PHP_BYTES_PER_PIXEL", "PHPConfig", "PHPNet", "PHPParts", "PyramidKind", "SubNet", "block_dilations"]

#: ``php``: parallel branches, dilations growing with depth, top-down aggregation + re-weighting (the paper);
#: ``parallel``: Table IV "Parallel Only" (same dilations in every block, plain concatenation);
#: ``hierarchical``: "Hierarchical Only" (one branch per block, its dilation growing with depth);
#: ``concat``: "PHP-concatenation" (parallel and hierarchical, plain concatenation).
PyramidKind = Literal["php", "parallel", "hierarchical", "concat"]


#: Peak activation bytes per input pixel at batch 1, float32 (see :class:`PHPNet`).
PHP_BYTES_PER_PIXEL = 256


def block_dilations(pyramid: PyramidKind, block: int, branches: int) -> tuple[int, ...]:
    """Dilation rates of block ``block`` (0-based): ``(block + 1) * (1..branches)`` for the hierarchical kinds.

    ``hierarchical`` keeps only the largest rate of that level, so its receptive field matches ``php``'s.
    """
    base = tuple(range(1, branches + 1))
    if pyramid == "parallel":
        return base
    if pyramid == "hierarchical":
        return ((block + 1) * branches,)
    return tuple((block + 1) * rate for rate in base)


class SubNet(nn.Module):
    """Strided 3x3 stem -> PHP blocks at 1/2**levels resolution -> 1x1 head -> pixel shuffle.

    Args:
        in_ch: input channels; the first three are the image the pooling branch reads.
        out_ch: output channels at full resolution.
        width: feature width of the blocks.
        blocks: number of PHP blocks (levels of the hierarchical pyramid).
        levels: stride-2 convolutions in the stem (downsampling factor ``2**levels``).
        pyramid: which pyramid (see :data:`PyramidKind`).
        branches: parallel branches per block.
        pooling: pooled input joined to the stem's features (see :data:`PoolingKind`).
        layer_scale: a learnable scale on each block's residual (see :class:`PHPBlock`).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        *,
        width: int,
        blocks: int,
        levels: int,
        pyramid: PyramidKind = "php",
        branches: int = 4,
        pooling: PoolingKind = "none",
        layer_scale: bool = False,
    ) -> None:
        super().__init__()
        self.factor = 2**levels
        pooled = 0 if pooling == "none" else 3
        stem: list[nn.Module] = []
        for level in range(max(levels, 1)):
            c_in = in_ch if level == 0 else width
            c_out = width - pooled if level == max(levels, 1) - 1 else width
            stem += [nn.Conv2d(c_in, c_out, 3, stride=2 if levels else 1, padding=1), nn.ReLU()]
        self.stem = nn.Sequential(*stem)
        self.pool = None if pooling == "none" else ContrastAwarePooling(3, self.factor, pooling)
        self.blocks = nn.Sequential(
            *(
                PHPBlock(
                    width, block_dilations(pyramid, b, branches), aggregate=pyramid == "php", layer_scale=layer_scale
                )
                for b in range(blocks)
            )
        )
        self.head = nn.Conv2d(width, out_ch * self.factor**2, 1)
        # Zero-initialised head: an untrained sub-network adds nothing, so the untrained model is the
        # identity (X = X^c = Y) and short CPU runs start from the input's score instead of noise.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The blocks' output at 1/``factor`` resolution (what the head reads)."""
        feat = self.stem(x)
        if self.pool is not None:
            feat = torch.cat([feat, self.pool(x[:, :3])], dim=1)
        return self.blocks(feat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, in_ch, H, W)`` with H, W multiples of ``factor`` -> ``(B, out_ch, H, W)``."""
        return F.pixel_shuffle(self.head(self.features(x)), self.factor)


@dataclass(frozen=True)
class PHPConfig(RouteConfig):
    """Hyper-parameters of :class:`PHPNet` (and, inherited, the intensity routing's: :class:`RouteConfig`).

    Attributes:
        width: feature width of the first sub-network (rain removal, structure and colour).
        blocks: PHP blocks of the first sub-network.
        levels: its stride-2 convolutions (resolution 1/2**levels).
        refine_width: feature width of the second sub-network (details).
        refine_blocks: its PHP blocks (0: stem and head only).
        refine_levels: its stride-2 convolutions.
        branches: parallel branches per PHP block (the paper's k = 4).
        pyramid: ``php`` or a Table IV variant (see :data:`PyramidKind`).
        pooling: ``contrast`` (the paper), ``max`` or ``none`` (Table IV variants).
        detail_gate: the second sub-network also predicts a per-pixel, per-channel weight ``g`` of
            the input's high frequencies, ``X = X^c + r_2 + g * (Y - X^c)`` (derain's addition, not
            the paper's; see :class:`PHPNet`).
        layer_scale: every PHP block scales its residual by a learnable per-channel factor (derain's
            addition, not the paper's): ``scripts/php_grow.py`` starts new blocks at zero with it.
        gate_refine: hidden width of a full-resolution correction of the detail gate from
            ``[Y, X^c, g]`` (derain's addition; 0: none). Needs ``detail_gate``.
    """

    width: PositiveInt = 32
    blocks: NonNegativeInt = 3
    levels: NonNegativeInt = 2
    refine_width: PositiveInt = 16
    refine_blocks: NonNegativeInt = 1
    refine_levels: NonNegativeInt = 1
    branches: PositiveInt = 4
    pyramid: PyramidKind = "php"
    pooling: PoolingKind = "contrast"
    detail_gate: bool = False
    layer_scale: bool = False
    gate_refine: NonNegativeInt = 0

    def __post_init__(self) -> None:
        """A gate refinement refines the detail gate (the parser adds ``model.config.``)."""
        super().__post_init__()
        require(not self.gate_refine or self.detail_gate, "gate_refine", "needs detail_gate: true")


class PHPParts(NamedTuple):
    """What :class:`PHPNet` adds up: ``X = coarse + refine + gate * (Y - coarse)``.

    Attributes:
        coarse: ``X^c``, the first sub-network's output (rain removed, low-pass).
        refine: ``r_2``, the second sub-network's residual.
        gate: the detail gate ``g`` (None without ``detail_gate``).
    """

    coarse: torch.Tensor
    refine: torch.Tensor
    gate: torch.Tensor | None

    def combine(self, x: torch.Tensor) -> torch.Tensor:
        """``X`` for the rainy images ``x`` the parts came from (unclamped)."""
        fine = self.coarse + self.refine
        return fine if self.gate is None else fine + self.gate * (x - self.coarse)


class PHPNet(RoutableModel):
    """Rain image ``Y`` -> ``X^c`` (first sub-network) -> ``X`` (second); ``ModelOutput.coarse`` is ``X^c``.

    Tiling: treated as global. The dilated pyramid at 1/4 resolution spans about 130 px, and with the
    bundled weights 512 px tiles overlapping by 64 or 128 px stay 0.004 (mean) / 0.16 (max) away from
    the untiled result, above the local contract's 1e-3. Its activations are small (mostly at 1/4 and
    1/2 resolution), so the engine runs whole images within its memory budget instead:
    :data:`PHP_BYTES_PER_PIXEL` is an upper estimate from the activation shapes (about 30 full-resolution
    float32 channels live at the peak).
    """

    tiling = Tiling.global_(PHP_BYTES_PER_PIXEL)

    def __init__(self, config: PHPConfig = PHPConfig()) -> None:
        super().__init__()
        self.config = config
        self.structure = SubNet(
            3,
            3,
            width=config.width,
            blocks=config.blocks,
            levels=config.levels,
            pyramid=config.pyramid,
            branches=config.branches,
            pooling=config.pooling,
            layer_scale=config.layer_scale,
        )
        self.detail = SubNet(
            6,
            3,
            width=config.refine_width,
            blocks=config.refine_blocks,
            levels=config.refine_levels,
            pyramid=config.pyramid,
            branches=config.branches,
            layer_scale=config.layer_scale,
        )
        self.gate = None
        if config.detail_gate:
            # Zero-initialised like the heads: a model grown from gate-less weights computes what they did.
            self.gate = nn.Conv2d(config.refine_width, 3 * self.detail.factor**2, 1)
            nn.init.zeros_(self.gate.weight)
            nn.init.zeros_(self.gate.bias)
        self.gate_refine = None
        if config.gate_refine:
            last = nn.Conv2d(config.gate_refine, 3, 3, padding=1)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.gate_refine = nn.Sequential(
                nn.Conv2d(9, config.gate_refine, 3, padding=1), nn.ReLU(inplace=True), last
            )
        self.size_divisor = math.lcm(self.structure.factor, self.detail.factor)
        self.add_heavy_expert()

    def expert(self, x: torch.Tensor) -> ModelOutput:
        """This network's own pass, without routing (the light expert of a routed php)."""
        parts = self.parts(x)
        fine = parts.combine(x)
        return ModelOutput(background=fine.clamp(0.0, 1.0), rain=x - fine, coarse=parts.coarse)

    def parts(self, x: torch.Tensor) -> PHPParts:
        """The three terms of ``X`` for rainy images ``x``, ``(B, 3, H, W)``, cropped back to ``H x W``.

        ``forward`` adds them; ``benchmarks/php_detail.py`` and ``benchmarks/php_pooling.py --mask gate``
        read them to see which term changes rain-free pixels.
        """
        padded, (h, w) = pad_to_multiple(x, self.size_divisor)
        coarse = padded + self.structure(padded)
        feat = self.detail.features(torch.cat([padded, coarse], dim=1))
        refine = F.pixel_shuffle(self.detail.head(feat), self.detail.factor)
        coarse = coarse[..., :h, :w]
        gate = None if self.gate is None else F.pixel_shuffle(self.gate(feat), self.detail.factor)[..., :h, :w]
        if self.gate_refine is not None:
            gate = gate + self.gate_refine(torch.cat([x, coarse, gate], dim=1))
        return PHPParts(coarse, refine[..., :h, :w], gate)

    def gate_map(self, x: torch.Tensor) -> torch.Tensor:
        """The detail gate ``g`` for rainy images ``x``, ``(B, 3, H, W)``: 1 keeps the input's detail, 0 drops it.

        For inspection (``benchmarks/php_pooling.py --mask gate``); raises without ``detail_gate``.
        """
        gate = self.parts(x).gate
        if gate is None:
            raise ValueError("gate_map: this php has no detail gate (model.config.detail_gate is false)")
        return gate


register_model(
    ModelSpec(
        name="php",
        config_cls=PHPConfig,
        build=PHPNet,
        config=PHPConfig(),
        tiny={"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 0, "branches": 2},
    )
)
