"""A clean image from a static rainy sequence (seed paper 002, section 3, eqs. 2-4), and its baselines.

Percentile method: for every pixel ``l`` take the mode ``phi_l`` of its intensity over the ``N``
frames (eq. 2) and the range of ranks the mode occupies among the sorted intensities (eq. 3: the
share of frames below it and above it). The percentile ``p_hat`` that lies inside the most pixels'
ranges (eq. 4) -- over the whole image, or per cell of a ``regions x regions`` grid -- is then taken
per pixel and per colour channel: ``B_l = percentile_{p_hat}(O_l)``. Rain brightens pixels, so the
rain-free values sit at the low end and the chosen percentile is usually below the median; one
``p_hat`` for many pixels is what makes the result smooth where a per-pixel mode is noisy.

Choices the paper leaves open (also in ``docs/methods/spanet.md``):

* Intensity is 8-bit BT.601 luma; frames are stored as 8-bit (video and most photos are).
* The mode is taken over bins of ``bin_width`` levels (default 8): with few frames and sensor noise
  raw values rarely repeat, so a mode of exact values is the minimum of ties. Ties go to the
  darker bin (rain brightens).
* Ranks are on numpy's linear percentile scale (rank ``p/100 * (N - 1)``), so "``p`` lies in the
  mode's range" means the ``p``-th percentile is one of the mode's values; ``p`` is searched on
  whole percents.
* The human check of the paper (users reject results and add frames) is not automated.

Static camera only: frames are compared at low resolution with their temporal median; a shift
(phase correlation) or a change of most of the picture (a scene cut) is refused with one line.
Memory is bounded: frames are streamed once into an 8-bit file on disk and processed in strips of
rows, so 300 frames of 1080p need a few hundred MB of RAM.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from derain.data.video import open_video
from derain.errors import DerainError

__all__ = [
    "METHODS",
    "PseudoGTOptions",
    "PseudoGTResult",
    "StaticSceneError",
    "check_static",
    "estimate_background",
    "open_sequence",
]

Method = Literal["percentile", "median", "mean"]
METHODS: tuple[str, ...] = ("percentile", "median", "mean")
_SMALL_SIDE = 256  # side of the low-resolution copies used for the static-camera check


def _CUT_SIZE(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(w, h)`` of the 96 px copies the scene-cut test compares (calibrated at that size)."""
    scale = 96 / max(shape)
    return max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale))


_MIN_RESPONSE = 0.1  # phase-correlation peaks weaker than this are noise (rain, no texture): no verdict
_MIN_SEGMENT = 3  # frames each side of a candidate scene cut (a cut in the last 2 frames goes unseen)
_STRIP_BYTES = 192 * 2**20  # working memory per strip (the sorted copy and temporaries)


class StaticSceneError(DerainError):
    """The sequence is not a static scene (moving camera or scene cut), or too short."""


@dataclass(frozen=True)
class PseudoGTOptions:
    """How to build the clean image.

    Attributes:
        method: ``percentile`` (the paper), ``median`` or ``mean`` over time.
        regions: ``p_hat`` per cell of a ``regions x regions`` grid (1: one global ``p_hat``).
        bin_width: intensity levels per mode bin (8-bit scale).
        max_shift: largest tolerated camera shift, as a share of the longer side (0.01: 19 px at
            1080p; never below 2 px of the 256 px copies): phase correlation of rainy frames is
            only good to a pixel or two at that scale. A zoom is not a shift and may pass.
        max_change: largest tolerated ``1 - NCC`` between the temporal medians before and after
            any frame (a scene cut). Calibrated on synthetic sequences of 6 scenes: static heavy
            rain reached 0.61, cuts between two scenes at least 0.75.
    """

    method: Method = "percentile"
    regions: int = 1
    bin_width: int = 8
    max_shift: float = 0.01
    max_change: float = 0.7

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method {self.method!r}: use one of {', '.join(METHODS)}")
        if self.regions < 1 or not 1 <= self.bin_width <= 128:
            raise ValueError("regions must be >= 1 and bin_width in 1..128")


@dataclass
class PseudoGTResult:
    """The estimate: ``clean`` float32 ``(H, W, 3)`` in [0, 1]; ``percentile`` is ``p_hat`` per region."""

    clean: np.ndarray
    percentile: np.ndarray | None
    frames: int


@contextlib.contextmanager
def open_sequence(path: str | Path, *, max_frames: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream a frame folder or video once into an 8-bit memory-mapped stack.

    Yields ``(frames, small)``: ``(N, H, W, 3)`` uint8 (on disk, deleted afterwards) and
    ``(N, h, w)`` float32 low-resolution grey copies for :func:`check_static`.

    Raises:
        VideoReadError: unreadable input or frames of different sizes (from :func:`open_video`).
        StaticSceneError: fewer than 3 frames.
    """
    path = Path(path)
    info, frames = open_video(path)
    with tempfile.TemporaryDirectory(prefix="derain_pgt_") as tmp:
        raw = Path(tmp) / "frames.u8"
        small = []
        with raw.open("wb") as sink:
            for i, rgb in enumerate(frames):
                if max_frames is not None and i >= max_frames:
                    break
                u8 = np.round(rgb * 255.0).astype(np.uint8)
                sink.write(u8.tobytes())
                small.append(_small_grey(rgb))
        n = len(small)
        if n < 3:
            raise StaticSceneError(f"{path}: {n} frame(s); a background estimate needs at least 3")
        stack = np.memmap(raw, dtype=np.uint8, mode="r", shape=(n, info.height, info.width, 3))
        try:
            yield stack, np.stack(small)
        finally:
            del stack


def _small_grey(rgb: np.ndarray) -> np.ndarray:
    scale = _SMALL_SIDE / max(rgb.shape[:2])
    grey = rgb.mean(axis=2).astype(np.float32)
    if scale >= 1:
        return grey
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def check_static(small: np.ndarray, full_side: int, name: str | Path, options: PseudoGTOptions) -> None:
    """Refuse a moving camera or a scene cut, with one line naming the sequence and the frame.

    Camera motion: the shift (phase correlation) of the temporal minimum of blocks of frames
    against the first block's, so rain drops out and slow pans add up. Scene cut (at 96 px):
    for every split ``t`` (at least :data:`_MIN_SEGMENT` frames each side) the temporal medians
    before and after are compared by ``1 - NCC``; medians of several frames average most rain out,
    while a new scene decorrelates them.

    Args:
        small: ``(N, h, w)`` low-resolution grey frames.
        full_side: the longer side of the full frames (to express shifts in full pixels).
        name: the sequence, for the message.
        options: the tolerances.
    """
    block = max(_MIN_SEGMENT, len(small) // 10)
    # block minimum: rain only brightens, so the darkest value of a few frames is mostly rain-free
    medians = [small[i : i + block].min(axis=0).astype(np.float32) for i in range(0, len(small), block)]
    scale = full_side / max(small.shape[1:])
    window = cv2.createHanningWindow(medians[0].shape[::-1], cv2.CV_32F)
    for k, later in enumerate(medians[1:], start=1):
        # copies: OpenCV applies the window to its inputs in place
        (dx, dy), response = cv2.phaseCorrelate(medians[0].copy(), later.copy(), window)
        shift = float(np.hypot(dx, dy)) * scale
        if response >= _MIN_RESPONSE and shift > max(options.max_shift * full_side, 2 * scale):
            raise StaticSceneError(
                f"{name}: camera moves (frames {k * block + 1}-{min(len(small), (k + 1) * block)} are {shift:.1f} px "
                "off the first ones); pseudo ground truth needs a static camera"
            )
    coarse = np.stack([cv2.resize(f, _CUT_SIZE(f.shape), interpolation=cv2.INTER_AREA) for f in small])
    splits = range(_MIN_SEGMENT, len(coarse) - _MIN_SEGMENT + 1)
    changes = [1.0 - _ncc(np.median(coarse[:t], axis=0), np.median(coarse[t:], axis=0)) for t in splits]
    if changes and max(changes) > options.max_change:
        t = splits[int(np.argmax(changes))]
        raise StaticSceneError(
            f"{name}: scene changes at frame {t + 1} (1 - correlation of the medians before and after: "
            f"{max(changes):.2f}); split the sequence at the cut"
        )


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-12))


def estimate_background(frames: np.ndarray, options: PseudoGTOptions = PseudoGTOptions()) -> PseudoGTResult:
    """The clean image of a static sequence ``(N, H, W, 3)`` uint8 (array or memmap), in strips of rows."""
    n, h, w, _ = frames.shape
    rows = max(1, _STRIP_BYTES // (n * w * 3 * 6))
    strips = [(r, min(h, r + rows)) for r in range(0, h, rows)]
    if options.method != "percentile":
        reduce = np.median if options.method == "median" else np.mean
        clean = np.concatenate([reduce(frames[:, a:b], axis=0) for a, b in strips])
        return PseudoGTResult((clean / 255.0).astype(np.float32), None, n)
    cells = options.regions**2
    coverage = np.zeros((cells, 102), dtype=np.int64)  # per region: pixels whose mode range holds p (difference array)
    for a, b in strips:
        lo, hi = _mode_rank_range(frames[:, a:b], options.bin_width)
        first = np.ceil(lo * 100.0 / (n - 1) - 1e-9).astype(np.int64)
        last = np.floor(hi * 100.0 / (n - 1) + 1e-9).astype(np.int64)
        region = _region_index(a, b, h, w, options.regions)
        np.add.at(coverage, (region.ravel(), first.ravel()), 1)
        np.add.at(coverage, (region.ravel(), last.ravel() + 1), -1)
    p_hat = np.cumsum(coverage, axis=1)[:, :101].argmax(axis=1).astype(np.float64)
    out = np.empty((h, w, 3), dtype=np.float32)
    for a, b in strips:
        ranks = p_hat[_region_index(a, b, h, w, options.regions)] / 100.0 * (n - 1)
        out[a:b] = _rank_value(np.sort(frames[:, a:b], axis=0), ranks) / 255.0
    return PseudoGTResult(out, p_hat.reshape(options.regions, options.regions), n)


def _mode_rank_range(strip: np.ndarray, bin_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of a ``(N, h, w, 3)`` strip: first and last rank (0-based) held by its mode bin."""
    luma = (strip[..., 0].astype(np.uint16) * 77 + strip[..., 1] * 150 + strip[..., 2] * 29) >> 8
    bins = (luma // bin_width).astype(np.intp)
    counts = np.zeros((256 // bin_width + 1, *bins.shape[1:]), dtype=np.int32)
    rr, cc = np.indices(bins.shape[1:])
    for frame_bins in bins:
        counts[frame_bins, rr, cc] += 1
    mode = counts.argmax(axis=0)  # ties -> darker bin
    below = np.take_along_axis(np.cumsum(counts, axis=0), mode[None], axis=0)[0] - counts.max(axis=0)
    return below, below + counts.max(axis=0) - 1


def _region_index(a: int, b: int, h: int, w: int, regions: int) -> np.ndarray:
    """Grid cell of every pixel in rows ``a..b``."""
    ry = np.arange(a, b) * regions // h
    rx = np.arange(w) * regions // w
    return ry[:, None] * regions + rx[None, :]


def _rank_value(ordered: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Linear interpolation of sorted ``(N, h, w, 3)`` values at fractional ``ranks`` ``(h, w)``."""
    low = np.floor(ranks).astype(np.intp)
    high = np.minimum(low + 1, ordered.shape[0] - 1)
    frac = (ranks - low)[..., None]
    take = lambda idx: np.take_along_axis(ordered, idx[None, ..., None], axis=0)[0].astype(np.float32)  # noqa: E731
    return take(low) * (1 - frac) + take(high) * frac
