"""Video benchmark: per-frame PSNR/SSIM on paired clips and a temporal-flicker figure.

A paired clip is a folder with ``rain/`` and ``clean/`` frames of the same names (natural order).
Every model derains the clip in order through :meth:`derain.api.Derainer.frames`: video models carry
their state from frame to frame, single-image models run frame by frame. Frames stream: one rainy,
one clean and one derained frame are in memory at a time, whatever the clip length.

Flicker: the mean absolute change of Y (MATLAB ``rgb2ycbcr`` scale, 0-255) between consecutive
output frames, over the pixels where the clean clip does not change (``|dY_clean| <`` :data:`STATIC_Y`).
Where the scene is still, any change of the output is flicker: rain the model lets through, or
its own temporal instability. The ``clean`` row is the floor (the clean frames' own change on those
pixels: compression noise); ``identity`` is the rainy input's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.metrics import METRIC_NAMES, rgb_to_y, score_images

__all__ = ["CLEAN", "FLICKER", "STATIC_Y", "ClipScore", "score_clip", "score_video_set"]

#: A pixel is static where the clean clip's Y changes by less than this (0-255 scale) between frames.
STATIC_Y = 2.0
#: Metric key of the flicker figure.
FLICKER = "flicker"
#: Row label of the clean frames' own flicker (the floor).
CLEAN = "clean"


class ClipScore:
    """Running per-frame scores and flicker of one derained clip, fed frame by frame."""

    def __init__(self) -> None:
        self.frames: list[dict[str, float]] = []
        self._flicker_sum = 0.0
        self._static_pixels = 0
        self._previous_y: np.ndarray | None = None

    def add(self, output: np.ndarray, clean: np.ndarray, static: np.ndarray | None) -> None:
        """Score one output frame; ``static`` is the mask of pixels whose clean Y did not change (None: first)."""
        self.frames.append(score_images(output, clean, quantize=True))
        y = rgb_to_y(np.round(np.clip(output, 0.0, 1.0) * 255.0) / 255.0)
        if static is not None and self._previous_y is not None:
            self._flicker_sum += float(np.abs(y - self._previous_y)[static].sum())
            self._static_pixels += int(static.sum())
        self._previous_y = y

    def summary(self) -> dict[str, Any]:
        mean = {k: float(np.mean([f[k] for f in self.frames])) for k in METRIC_NAMES}
        flicker = self._flicker_sum / self._static_pixels if self._static_pixels else float("nan")
        return {**mean, FLICKER: flicker, "frames": len(self.frames), "per_frame": self.frames}


def _static_masks(cleans: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(clean, static mask vs. the previous clean frame or None)`` for a clip's clean frames."""
    previous = None
    for clean in cleans:
        y = rgb_to_y(np.round(clean * 255.0) / 255.0)
        yield clean, None if previous is None else np.abs(y - previous) < STATIC_Y
        previous = y


Derain = Callable[[Iterable[np.ndarray]], Iterator[np.ndarray]]


def score_clip(pairs: Sequence[tuple[Path, Path]], derain: Derain | None) -> dict[str, Any]:
    """Scores of ``derain`` (None: the rainy input itself) on one clip's ``(rain, clean)`` frame files."""
    rains = (read_rgb(r) for r, _ in pairs)
    outputs = rains if derain is None else derain(rains)
    score = ClipScore()
    for output, (clean, static) in zip(outputs, _static_masks(read_rgb(c) for _, c in pairs), strict=True):
        score.add(output, clean, static)
    return score.summary()


def _clean_floor(pairs: Sequence[tuple[Path, Path]]) -> float:
    """Flicker of the clean frames themselves on their static pixels."""
    score = ClipScore()
    for clean, static in _static_masks(read_rgb(c) for _, c in pairs):
        score.add(clean, clean, static)
    return score.summary()[FLICKER]


def score_video_set(
    root: Path, models: Sequence[tuple[str, Derain]], *, max_frames: int | None = None
) -> dict[str, Any]:
    """The identity row, the clean floor and every model on one paired clip ``root`` (``rain/`` + ``clean/``).

    Args:
        root: clip folder.
        models: ``(label, frames -> derained frames)`` per model, e.g. ``Derainer.frames``.
        max_frames: score only the first N frames.

    Raises:
        DatasetError: not a paired folder, or unpaired frames.
    """
    pairs = pair_folders(*find_paired_layout(root))[:max_frames]
    rows = {"identity": score_clip(pairs, None)}
    for label, derain in models:
        rows[label] = score_clip(pairs, derain)
    mean = {row: {k: v for k, v in s.items() if k != "per_frame"} for row, s in rows.items()}
    mean[CLEAN] = {FLICKER: _clean_floor(pairs), "frames": len(pairs)}
    per_frame = {row: s["per_frame"] for row, s in rows.items()}
    return {
        "name": Path(root).resolve().name,
        "path": str(root),
        "count": len(pairs),
        "static_y": STATIC_Y,
        "mean": mean,
        "per_frame": per_frame,
    }
