"""Camera degradations: slight blur, rescale, sensor noise, JPEG.

Real-ESRGAN's lesson (super-resolution): synthetic-only training transfers to real photos when
the degradations after synthesis are randomised, in the order a camera and the web apply them
(blur -> resize -> noise -> compression). Real rain photos are JPEG-compressed, resized and noisy.
:func:`degrade` applies them to the rainy image only (the clean target B stays untouched, so the
model learns to undo the camera too); :func:`degrade_pair` applies the same camera, noise
included, to both (the model learns to remove the rain only).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from derain.errors import ConfigError

__all__ = ["Degradation", "DegradeRanges", "degrade", "degrade_pair", "draw_degradation", "jpeg_round_trip"]


@dataclass(frozen=True)
class DegradeRanges:
    """Where each degradation is drawn from, and how often it happens.

    Attributes:
        blur: sigma range (px) of a slight Gaussian blur, applied with probability ``p_blur``.
        scale: range of the down-scale factor of a down-then-up resize, with probability ``p_scale``.
        noise: range of the Gaussian sensor-noise std, with probability ``p_noise``.
        jpeg_quality: range of the JPEG quality, with probability ``p_jpeg``.
    """

    blur: tuple[float, float] = (0.3, 1.0)
    scale: tuple[float, float] = (0.5, 0.95)
    noise: tuple[float, float] = (0.003, 0.03)
    jpeg_quality: tuple[int, int] = (30, 95)
    p_blur: float = 0.3
    p_scale: float = 0.4
    p_noise: float = 0.5
    p_jpeg: float = 0.8

    def __post_init__(self) -> None:
        bounds = {"blur": (0.0, 5.0), "scale": (0.1, 1.0), "noise": (0.0, 0.2), "jpeg_quality": (1, 100)}
        for key, (lo, hi) in bounds.items():
            a, b = getattr(self, key)
            if not lo <= a <= b <= hi:
                raise ConfigError(f"degrade.{key}: range {(a, b)} must be ordered within [{lo}, {hi}]")
        for key in ("p_blur", "p_scale", "p_noise", "p_jpeg"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"degrade.{key}: probability {getattr(self, key)!r} is outside [0, 1]")


@dataclass(frozen=True)
class Degradation:
    """One image's drawn degradations; a zero / ``1.0`` / ``None`` field is switched off."""

    blur: float = 0.0
    scale: float = 1.0
    noise: float = 0.0
    jpeg_quality: int | None = None


def draw_degradation(ranges: DegradeRanges, rng: np.random.Generator) -> Degradation:
    """Draw each degradation independently with its probability (a fixed number of draws)."""
    on = rng.random(4) < (ranges.p_blur, ranges.p_scale, ranges.p_noise, ranges.p_jpeg)
    values = rng.random(4)

    def pick(k: int, bounds: tuple[float, float]) -> float:
        return bounds[0] + values[k] * (bounds[1] - bounds[0])

    quality = round(pick(3, ranges.jpeg_quality))
    return Degradation(
        blur=pick(0, ranges.blur) if on[0] else 0.0,
        scale=pick(1, ranges.scale) if on[1] else 1.0,
        noise=pick(2, ranges.noise) if on[2] else 0.0,
        jpeg_quality=quality if on[3] else None,
    )


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through an in-memory JPEG (PIL; deterministic)."""
    buf = io.BytesIO()
    Image.fromarray((np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf), dtype=np.float32) / 255.0


def degrade(image: np.ndarray, degradation: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Apply ``degradation`` to ``image`` (float32 ``(H, W, 3)``): blur, down-up resize, noise, JPEG.

    The resize goes down by ``scale`` with area averaging and back up bilinearly, so the output
    keeps the input's size (it must stay aligned with B). Noise is per-channel Gaussian.
    """
    return _camera(image, degradation, _draw_noise(image.shape, degradation, rng))


def degrade_pair(
    image: np.ndarray, background: np.ndarray, degradation: Degradation, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The same camera on the rainy image and on B, one noise draw for both.

    The rainy image comes out as :func:`degrade` makes it from the same ``rng``, so a mixture that
    switches this on renders the same inputs seed for seed; only the target changes.
    """
    noise = _draw_noise(image.shape, degradation, rng)
    return _camera(image, degradation, noise), _camera(background, degradation, noise)


def _draw_noise(shape: tuple[int, ...], degradation: Degradation, rng: np.random.Generator) -> np.ndarray | None:
    if degradation.noise <= 0:
        return None
    return rng.normal(0.0, degradation.noise, shape).astype(np.float32)


def _camera(image: np.ndarray, degradation: Degradation, noise: np.ndarray | None) -> np.ndarray:
    h, w = image.shape[:2]
    out = np.asarray(image, dtype=np.float32)
    if degradation.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), degradation.blur)
    if degradation.scale < 1.0:
        small = (max(1, round(w * degradation.scale)), max(1, round(h * degradation.scale)))
        out = cv2.resize(cv2.resize(out, small, interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_LINEAR)
    if noise is not None:
        out = out + noise
    out = np.clip(out, 0.0, 1.0)
    if degradation.jpeg_quality is not None:
        out = jpeg_round_trip(out, degradation.jpeg_quality)
    return out.astype(np.float32)
