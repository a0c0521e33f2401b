"""The rain veil of heavy rain (JORDER, Yang et al.): O = alpha (B + sum S) + (1 - alpha) A.

Accumulated distant rain scatters light like fog: the scene is attenuated by a transmission
alpha and a global atmospheric light A is added. B stays the haze-free ground truth, so a model
trained on these pairs removes the veil together with the streaks.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["apply_veil", "draw_veil"]


def apply_veil(image: np.ndarray, transmission: np.ndarray | float, airlight: np.ndarray | float) -> np.ndarray:
    """``transmission * image + (1 - transmission) * airlight``, float32.

    Args:
        image: The rainy scene ``B + sum S`` (float32 ``(H, W, 3)``).
        transmission: alpha, a scalar or an ``(H, W)`` map in [0, 1].
        airlight: A, a scalar grey or an RGB triple.
    """
    t = np.asarray(transmission, dtype=np.float32)
    if t.ndim == 2:
        t = t[:, :, None]
    a = np.asarray(airlight, dtype=np.float32)
    return (t * image + (1.0 - t) * a).astype(np.float32)


def draw_veil(shape: tuple[int, int], strength: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A transmission map and an atmospheric light for a veil of mean strength ``1 - alpha``.

    JORDER gives the formula, not the distributions, so these are our choices: alpha varies
    smoothly over the image (a 3x3 grid of uniform values, upsampled bicubically, scales the
    strength by 0.7-1.3, since a crop spans several depths), and A is a bright grey of level
    0.65-1.0 with each channel shifted by up to +-0.04 (daylight through rain is near-white,
    slightly cool or warm).

    Returns:
        ``(transmission (H, W) float32 in [0, 1], airlight (3,) float32 in [0, 1])``.
    """
    h, w = shape
    grid = rng.uniform(0.7, 1.3, size=(3, 3)).astype(np.float32)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    transmission = np.clip(1.0 - strength * field, 0.0, 1.0).astype(np.float32)
    level = rng.uniform(0.65, 1.0)
    airlight = np.clip(level + rng.uniform(-0.04, 0.04, size=3), 0.0, 1.0).astype(np.float32)
    return transmission, airlight
