"""Streak layers: procedural (noise -> blur -> threshold -> motion blur) or drawn from textures.

A layer is a float32 ``(H, W)`` map in [0, 1]; colour is added by the composition step.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import cv2
import numpy as np

from derain.data.synth.params import RainParams
from derain.errors import DatasetError

__all__ = ["procedural_streaks", "render_streaks", "streak_kernel", "texture_files", "texture_streaks"]

#: Variance of a one-pixel noise grain (a unit box), added to the blur so radius 0.2 stays visible.
_GRAIN_VARIANCE = 0.25


def streak_kernel(length: float, width: float, angle: float, threshold: float, bend: float = 0.0) -> np.ndarray:
    """The image of one noise grain after Gaussian blur, threshold and motion blur, peak 1.

    The Photoshop recipe (paper 004) works on a whole noise image; for sparse grains it equals
    convolving the grain positions with this kernel, which is what keeps a layer to one small
    convolution. The motion blur is a uniform average of the thresholded drop along the segment,
    sampled every half pixel; each sample is evaluated exactly but only within 4 sigma of its
    centre (the Gaussian is below 3e-4 there), so long, thick streaks cost milliseconds.

    Args:
        length: Motion-blur distance in pixels.
        width: Gaussian blur radius (sigma) of the grain.
        angle: Degrees from vertical, positive = top leans right.
        threshold: Fraction of the drop's peak cut away before the motion blur.
        bend: Degrees the path turns over its length (a circular arc, positive = clockwise going
            down); 0 is the straight segment. The arc stays within ``length / 2`` of the centre.
    """
    sigma = math.sqrt(width**2 + _GRAIN_VARIANCE)
    half = math.ceil(length / 2 + 3 * sigma)
    n = 2 * half + 1
    theta = math.radians(angle)
    ux, uy = -math.sin(theta), math.cos(theta)  # unit vector along the streak, pointing down
    steps = np.linspace(-length / 2, length / 2, max(2, math.ceil(length * 2)))
    along, across = steps, np.zeros_like(steps)
    if bend:  # arc of curvature k through the centre, tangent to the streak direction there
        k = math.radians(bend) / length
        along, across = np.sin(k * steps) / k, (1 - np.cos(k * steps)) / k
    cx, cy = half + along * ux - across * uy, half + along * uy + across * ux  # sample centres in kernel pixels
    offsets = np.arange(-math.ceil(4 * sigma), math.ceil(4 * sigma) + 2)
    px = np.floor(cx).astype(np.int64)[:, None] + offsets  # (samples, window) columns
    py = np.floor(cy).astype(np.int64)[:, None] + offsets
    dx2 = ((px - cx[:, None]) ** 2).astype(np.float32)
    dy2 = ((py - cy[:, None]) ** 2).astype(np.float32)
    g = np.exp(-(dy2[:, :, None] + dx2[:, None, :]) / np.float32(2 * sigma**2)) - np.float32(threshold)
    inside = (px >= 0) & (px < n)
    keep = (g > 0) & inside[:, None, :] & ((py >= 0) & (py < n))[:, :, None]
    flat = (py[:, :, None] * n + px[:, None, :])[keep]
    drop = np.bincount(flat, weights=g[keep], minlength=n * n).reshape(n, n).astype(np.float32)
    return drop / drop.max()


def _grains(shape: tuple[int, int], density: float, rng: np.random.Generator) -> np.ndarray:
    """Sparse noise: Poisson-many grains of random brightness in [0.6, 1] at random pixels."""
    h, w = shape
    count = rng.poisson(density * h * w)
    flat = rng.integers(0, h * w, size=count)
    amp = rng.uniform(0.6, 1.0, size=count)
    return np.bincount(flat, weights=amp, minlength=h * w).reshape(h, w).astype(np.float32)


def _layer(shape: tuple[int, int], kernel: np.ndarray, density: float, rng: np.random.Generator) -> np.ndarray:
    """Grains on a canvas padded by the kernel radius (so streaks enter from outside), convolved."""
    pad = kernel.shape[0] // 2
    h, w = shape
    grains = _grains((h + 2 * pad, w + 2 * pad), density, rng)
    out = cv2.filter2D(grains, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    return out[pad : pad + h, pad : pad + w]


def procedural_streaks(shape: tuple[int, int], params: RainParams, rng: np.random.Generator) -> np.ndarray:
    """Sum of ``params.layers`` depth layers, far (small, dim, dense) to near (large, bright, sparse)."""
    total = np.zeros(shape, np.float32)
    n = params.layers
    for k in range(n):
        scale = 0.5 + 0.5 * k / (n - 1) if n > 1 else 1.0
        angle = params.angle + params.angle_spread * rng.standard_normal()
        kernel = streak_kernel(params.length * scale, params.width * scale, angle, params.threshold, params.bend)
        total += params.intensity * scale * _layer(shape, kernel, params.density / scale, rng)
    return np.clip(total, 0.0, 1.0, out=total)


@functools.lru_cache(maxsize=8)
def texture_files(folder: Path) -> tuple[Path, ...]:
    """The images of a streak texture folder (cached); DatasetError when it holds none."""
    from derain.data.io import list_images

    files = tuple(list_images(folder))
    if not files:
        raise DatasetError(f"{folder}: no streak images found (expected white-on-black PNG layers)")
    return files


@functools.lru_cache(maxsize=256)
def _texture(path: Path) -> np.ndarray:
    """A streak texture as grey uint8, normalised so its bright streak cores reach about 255.

    The first 3 rows are dropped: the Garg-Nayar layers carry a border artifact there, which
    RainStreakGen crops as well. uint8 keeps all 200 Garg-Nayar layers cached in about 35 MB.
    """
    from derain.data.io import read_rgb

    grey = read_rgb(path).mean(axis=2)[3:]
    peak = float(np.percentile(grey, 99.9)) or 1.0
    return (np.clip(grey / peak, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def texture_streaks(shape: tuple[int, int], params: RainParams, rng: np.random.Generator) -> np.ndarray:
    """A random window of a random texture, scaled 0.75-1.5x and maybe mirrored, times intensity.

    The window is cut at texture resolution and then resized to ``shape``, so a small crop
    costs a small resize. Mirroring flips the streak direction, so ``params.angle`` does not
    apply to textures.
    """
    assert params.texture_dir is not None
    files = texture_files(Path(params.texture_dir))
    tex = _texture(files[rng.integers(len(files))])
    h, w = shape
    th, tw = tex.shape
    scale = max(rng.uniform(0.75, 1.5), h / th, w / tw)
    wh, ww = min(th, math.ceil(h / scale)), min(tw, math.ceil(w / scale))
    y = rng.integers(th - wh + 1)
    x = rng.integers(tw - ww + 1)
    window = tex[y : y + wh, x : x + ww].astype(np.float32) * np.float32(params.intensity / 255.0)
    crop = cv2.resize(window, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop, dtype=np.float32)


def render_streaks(shape: tuple[int, int], params: RainParams, rng: np.random.Generator) -> np.ndarray:
    """The streak layer for ``params``: from textures when ``texture_dir`` is set, else procedural."""
    if params.texture_dir is not None:
        return texture_streaks(shape, params, rng)
    return procedural_streaks(shape, params, rng)
