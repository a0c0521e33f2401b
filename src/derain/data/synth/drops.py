"""Defocused near drops: large, blurred, semi-transparent discs (bokeh) in front of the scene.

Drops falling close to the lens are far out of focus: each shows as a soft disc that refracts a
blurred, brightened view of the scene behind it. The sizes, opacities and the brightening are
our choices (no paper in the seeds models them); they were picked by looking at real photos.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["near_drops"]


def near_drops(background: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` defocused drops over ``background`` (float32 ``(H, W, 3)``).

    Each drop is a disc of radius 3-12 % of the short side with opacity 0.15-0.5, softened by a
    Gaussian of a third of the mean radius; overlapping drops combine as ``1 - prod(1 - a)``.
    The drop colour is the scene blurred by a sigma of the mean radius, lifted by 0.1-0.25.

    Returns:
        ``(alpha (H, W) float32 in [0, 1], colour (H, W, 3) float32 in [0, 1])``; the caller
        blends ``(1 - alpha) I + alpha colour``.
    """
    h, w = background.shape[:2]
    short = min(h, w)
    radii = rng.uniform(0.03, 0.12, size=count) * short
    centres = rng.uniform(0.0, 1.0, size=(count, 2)) * (w, h)
    opacity = rng.uniform(0.15, 0.5, size=count)
    clear = np.ones((h, w), np.float32)
    for (x, y), r, a in zip(centres, radii, opacity, strict=True):
        disc = np.zeros((h, w), np.uint8)
        cv2.circle(disc, (round(x), round(y)), max(1, round(r)), 1, thickness=-1)
        clear *= 1.0 - np.float32(a) * disc
    mean_r = float(radii.mean()) if count else 1.0
    alpha = cv2.GaussianBlur(1.0 - clear, (0, 0), max(0.5, mean_r / 3))
    colour = cv2.GaussianBlur(background, (0, 0), max(1.0, mean_r)) + np.float32(rng.uniform(0.1, 0.25))
    return np.clip(alpha, 0.0, 1.0).astype(np.float32), np.clip(colour, 0.0, 1.0).astype(np.float32)
