"""Run a model on images of any size with bounded memory, tiled as the model's receptive field allows.

:meth:`Engine.for_model` reads the model's :class:`~derain.models.base.Tiling` policy:

* **local** (radius ``r``): overlapping tiles of at most 512 px (the fewest tiles that cover the
  image, shrunk to share it evenly, so a 1024 px side takes three 363 px tiles rather than three
  512 px ones) with a ``4 r`` px overlap. The blend window ignores the outer quarter of each overlap
  (pixels that saw padding instead of context) and cross-fades the middle half, so the result equals
  an untiled run whenever the receptive field is within ``r``.
* **global** (outputs depend on whole rows and columns): untiled while the batch fits the memory
  budget (``bytes_per_pixel`` of the policy x pixels); otherwise the widest tiles that fit -- full-width
  strips when a strip taller than twice the overlap fits, squares otherwise. Those tiles cut the
  columns (or rows), so such a run differs from an untiled one; that is the price of the budget.

Tiles start on multiples of the model's ``size_divisor`` (so strided models see the untiled sampling
grid); each tile is padded to the model's ``size_divisor``, run on the device, and blended into a float32
output and a weight map on the CPU. Memory is then the input and output images (about 3 x 4 bytes
per pixel each) plus one tile's activations, whatever the image size: a 4000x3000 photo stays well
under 3 GB with the default model on CPU (``benchmarks/memory_4k.py``). On CPU tiles run in the
channels-last memory format (``Engine.prepare`` converts the weights): faster for every bundled
model there, same outputs to float rounding (``benchmarks/channels_last.py``).

``self_ensemble`` (opt-in, off by default) runs every tile twice, as is and mirrored left to right,
and averages the two outputs, mirrored back: twice the time for +0.02 to +0.49 dB PSNR-Y on every dev
and held-out set measured for ``fastnet``, ``php`` and ``baseline`` (``benchmarks/self_ensemble.py``).
Only the horizontal mirror, by choice rather than measurement: rain falls from the top, so an
upside-down or rotated image shows the models a rain they never trained on (vertical flips and
rotations are EDSR's other six views).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from derain.errors import ConfigError
from derain.models.base import DerainModel, Tiling, pad_to_multiple

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE",
    "Engine",
    "Step",
    "blend_window",
    "image_step",
    "pick_device",
    "pick_dtype",
    "tile_side",
    "tile_spans",
    "tile_starts",
]

#: Tile side in pixels: bounds activation memory (the default model needs a few hundred MB per
#: 512x512 tile on CPU) while keeping the overlap overhead small (~13 %). 0 disables tiling.
DEFAULT_TILE = 512
#: Pixels shared by neighbouring tiles when no policy says otherwise (global models' tiles, direct
#: ``Engine`` use); local models get ``4 * radius``. Cross-faded (see :func:`blend_window`).
DEFAULT_OVERLAP = 32
#: Activation bytes a global-receptive-field model may use untiled before the engine tiles it.
DEFAULT_MEMORY_BUDGET = 2 * 2**30

#: ``step(tile, key) -> background``: runs a model on one padded ``(B, 3, h, w)`` tile on the
#: device. ``key`` identifies the tile position, so recurrent (video) steps can keep state per tile.
Step = Callable[[torch.Tensor, tuple[int, int]], torch.Tensor]

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> cuda, then mps, then cpu; explicit devices are checked for availability.

    Raises:
        ConfigError: unknown device string, or the requested backend is not available.
    """
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device {device!r}: not a device (use auto, cpu, cuda, cuda:N or mps)") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not available.get(dev.type, False):
        raise ConfigError(f"device {device!r}: not available on this machine")
    return dev


def pick_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """Compute dtype: float32 by default; fp16/bf16 only on a GPU (CPU half precision is slow and lossy).

    Raises:
        ConfigError: unknown dtype, or half precision requested on the CPU.
    """
    if dtype is None:
        return torch.float32
    resolved = _DTYPES.get(dtype) if isinstance(dtype, str) else dtype
    if resolved not in _DTYPES.values():
        raise ConfigError(f"dtype {dtype!r}: unknown (use one of {', '.join(_DTYPES)})")
    if resolved != torch.float32 and device.type == "cpu":
        raise ConfigError(f"dtype {dtype!r}: half precision needs a GPU; use fp32 on the CPU")
    return resolved


def tile_side(size: int, max_tile: int, overlap: int) -> int:
    """The smallest tile side (at most ``max_tile``) that covers ``size`` with as few tiles as ``max_tile`` needs.

    Why: full-size tiles waste work when the image is just over a multiple of the tile (1024 px in
    512 px tiles needs three tiles either way, but 363 px ones do 2x less work than 512 px ones).
    """
    if size <= max_tile:
        return size
    count = math.ceil((size - overlap) / (max_tile - overlap))
    even = math.ceil((size + (count - 1) * overlap) / count)
    return min(max_tile, max(even, 2 * overlap + 1))  # blending needs 2 * overlap < tile


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of side ``tile`` covering ``[0, size)`` with at least ``overlap`` shared.

    The last tile is aligned to the end, so every tile has the full side (no ragged edge tile).
    """
    if size <= tile:
        return [0]
    count = math.ceil((size - overlap) / (tile - overlap))
    stride = (size - tile) / (count - 1)
    return [round(i * stride) for i in range(count)]


def tile_spans(size: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """``(start, stop)`` of tiles covering ``[0, size)``, sharing ``overlap`` px, starting on multiples of ``align``.

    Why aligned: a model that downsamples by ``align`` overall (pooling, strided convs, pixel-unshuffle)
    sees a different sampling grid when a tile starts off a multiple of it, so its output would differ
    from the untiled one everywhere, not just near the tile border. Starts are snapped down (planned with
    ``align - 1`` px of extra overlap, so at least ``overlap`` stays shared) and the last tile runs to the end.
    """
    if size <= tile:
        return [(0, size)]
    starts = [s // align * align for s in tile_starts(size, tile, overlap + align - 1)]
    return [(s, min(s + tile, size)) for s in starts[:-1]] + [(starts[-1], size)]


def blend_window(h: int, w: int, overlap: int, *, inner: tuple[bool, bool, bool, bool]) -> torch.Tensor:
    """``(h, w)`` blending weights of one tile.

    Along each side shared with a neighbour (``inner`` = top, bottom, left, right) the weight is 0
    over the outer quarter of the overlap -- pixels that saw padding instead of context -- then rises
    along a raised cosine over the middle half. Facing ramps sum to 1, so the blend is a smooth
    cross-fade, and the result equals an untiled run for models whose receptive-field radius is at
    most ``overlap // 4``. Sides on the image border keep weight 1.
    """
    top, bottom, left, right = inner
    return _ramp(h, overlap, top, bottom)[:, None] * _ramp(w, overlap, left, right)[None, :]


def _ramp(n: int, overlap: int, lo: bool, hi: bool) -> torch.Tensor:
    pos = torch.arange(n, dtype=torch.float32) + 0.5  # pixel centres

    def fade(dist: torch.Tensor) -> torch.Tensor:
        r = ((dist - overlap / 4) / max(overlap / 2, 1e-6)).clamp(0.0, 1.0)
        return 0.5 - 0.5 * torch.cos(math.pi * r)

    weight = torch.ones(n)
    if lo:
        weight *= fade(pos)
    if hi:
        weight *= fade(n - pos)
    return weight


@dataclass(frozen=True)
class Engine:
    """Where and how to run: device, compute dtype and tiling (build it with :meth:`for_model`).

    Attributes:
        device: where tiles run.
        dtype: compute dtype of tiles (the model must already be in it).
        size_divisor: tiles are padded to a multiple of this.
        tile: tile side in pixels; 0 runs the whole image at once. Unused when ``budget_pixels`` is set.
        overlap: pixels shared by neighbouring tiles.
        budget_pixels: 0, or (global-receptive-field models) the most pixels one run may hold, batch
            included: larger inputs are cut into the widest tiles within it.
        channels_last: tiles run in channels-last memory format (the model's weights should be too:
            :meth:`prepare`). Same outputs to float rounding; faster on CPU for most models.
        self_ensemble: average each tile's output with that of its left-right mirror (twice the time).
            Single-image steps only: a recurrent step would see every frame twice.
    """

    device: torch.device
    dtype: torch.dtype
    size_divisor: int = 1
    tile: int = DEFAULT_TILE
    overlap: int = DEFAULT_OVERLAP
    budget_pixels: int = 0
    channels_last: bool = False
    self_ensemble: bool = False

    @classmethod
    def for_model(
        cls,
        model: DerainModel,
        device: torch.device,
        dtype: torch.dtype,
        *,
        tile: int | None = None,
        overlap: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        self_ensemble: bool = False,
    ) -> Engine:
        """The engine ``model``'s tiling policy asks for; an explicit ``tile``/``overlap`` wins.

        Local models: overlap ``4 * radius``, tiles of at most ``max(512, 4 * overlap)`` px. Global
        models: untiled within ``memory_budget`` bytes of activations, else the widest tiles within it.
        Channels-last on CPU: 1.1-2.4x faster for every bundled model there, same outputs to float
        rounding (``benchmarks/channels_last.py``); GPUs, not measured, keep the default layout.

        Raises:
            ConfigError: ``self_ensemble`` for a video model, or tiles that do not fit the overlap.
        """
        if self_ensemble and model.is_video:
            raise ConfigError(
                "self-ensemble: video models carry a recurrent state from frame to frame; "
                "it works with single-image models only"
            )
        policy: Tiling = model.tiling
        flags = {"channels_last": device.type == "cpu", "self_ensemble": self_ensemble}
        if policy.kind == "local":
            overlap = 4 * policy.radius if overlap is None else overlap
            tile = max(DEFAULT_TILE, 4 * overlap) if tile is None else tile
            return cls(device, dtype, model.size_divisor, tile, overlap, **flags)
        overlap = DEFAULT_OVERLAP if overlap is None else overlap
        if tile is not None:
            return cls(device, dtype, model.size_divisor, tile, overlap, **flags)
        budget = max(1, memory_budget // policy.bytes_per_pixel)
        return cls(device, dtype, model.size_divisor, DEFAULT_TILE, overlap, budget_pixels=budget, **flags)

    def prepare(self, model: DerainModel) -> DerainModel:
        """Move ``model`` to this engine's device, dtype and memory format (in place; returned), as derain.load does."""
        model.to(self.device, self.dtype)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def __post_init__(self) -> None:
        if self.tile < 0 or self.overlap < 0 or (self.tile and self.overlap * 2 >= self.tile):
            raise ConfigError(f"tile {self.tile}, overlap {self.overlap}: need tile >= 0 and 2 * overlap < tile")
        if self.tile and self.overlap + self.size_divisor >= self.tile:
            raise ConfigError(
                f"tile {self.tile}: must exceed overlap {self.overlap} + size divisor {self.size_divisor}"
            )
        if self.budget_pixels < 0:
            raise ConfigError(f"budget_pixels {self.budget_pixels}: must be >= 0")

    @torch.inference_mode()
    def run(self, step: Step, x: torch.Tensor) -> torch.Tensor:
        """Derain a CPU float ``(B, 3, H, W)`` batch tile by tile; returns CPU float32 ``(B, 3, H, W)``."""
        b, c, h, w = x.shape
        th, tw = self.tile_shape(b, h, w)
        ys = tile_spans(h, th, self.overlap, self.size_divisor)
        xs = tile_spans(w, tw, self.overlap, self.size_divisor)
        if len(ys) == len(xs) == 1:
            return self._tile(step, x, (0, 0))
        out = torch.zeros(b, c, h, w, dtype=torch.float32)
        weight = torch.zeros(h, w, dtype=torch.float32)
        for y0, y1 in ys:
            for x0, x1 in xs:
                region = (..., slice(y0, y1), slice(x0, x1))
                window = blend_window(y1 - y0, x1 - x0, self.overlap, inner=(y0 > 0, y1 < h, x0 > 0, x1 < w))
                out[region] += self._tile(step, x[region], (y0, x0)) * window
                weight[region[1:]] += window
        return out.div_(weight)

    def tile_shape(self, b: int, h: int, w: int) -> tuple[int, int]:
        """Tile height and width for a ``(b, 3, h, w)`` input (``(h, w)``: one run, untiled)."""
        if self.budget_pixels:
            return self._widest_tiles(b, h, w)
        if not self.tile:
            return h, w
        return tile_side(h, self.tile, self.overlap), tile_side(w, self.tile, self.overlap)

    def _widest_tiles(self, b: int, h: int, w: int) -> tuple[int, int]:
        """Global models: the whole image if it fits the budget, else full-width strips, else squares."""
        pixels = self.budget_pixels // b
        if h * w <= pixels:
            return h, w
        least = 2 * self.overlap + 1  # blending needs 2 * overlap < tile
        if pixels // w >= least:
            return tile_side(h, pixels // w, self.overlap), w
        side = max(math.isqrt(pixels), least)
        return tile_side(h, side, self.overlap), tile_side(w, side, self.overlap)

    def _tile(self, step: Step, tile: torch.Tensor, key: tuple[int, int]) -> torch.Tensor:
        """Pad one tile to ``size_divisor``, run it on the device (and mirrored), crop, return CPU float32."""
        padded, (h, w) = pad_to_multiple(tile.to(self.device, self.dtype), self.size_divisor)
        out = self._step(step, padded, key)
        if self.self_ensemble:  # the mirror's padding lands on the left; mirroring back puts it right again
            out = (out.float() + self._step(step, padded.flip(-1), key).flip(-1).float()) / 2
        return out[..., :h, :w].to("cpu", torch.float32)

    def _step(self, step: Step, padded: torch.Tensor, key: tuple[int, int]) -> torch.Tensor:
        if self.channels_last:
            padded = padded.contiguous(memory_format=torch.channels_last)
        return step(padded, key)


def image_step(model: DerainModel) -> Step:
    """The :data:`Step` of a single-image model (no state); video models use ``RecurrentStep``."""
    return lambda tile, key: model(tile).background
