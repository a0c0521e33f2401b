"""Putting a streak layer on a background: additive, screen, occlusion-aware (paper 003), haze."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from derain.data.synth.params import RainParams
from derain.data.synth.veil import apply_veil

__all__ = ["COMPOSITIONS", "Composition", "RainComposite", "compose"]

Composition = Literal["additive", "screen", "occlusion"]
COMPOSITIONS: tuple[str, ...] = ("additive", "screen", "occlusion")


@dataclass
class RainComposite:
    """One rendered rainy image and its parts; float32 ``(H, W, 3)`` in [0, 1] unless noted.

    Attributes:
        image: I, the rainy image.
        background: B, the clean image.
        streaks: S, the rain layer: how much rain covers each pixel (streaks and near drops),
            non-negative even where rain darkens the image; a binary rain mask (SPANet) is
            ``streaks.max(axis=2) > t``.
        alpha: ``(H, W)`` occlusion map (zeros for additive and screen).
        reliance: A, the colour of opaque rain in the occlusion model (``None`` otherwise).
        transmission: ``(H, W)`` veil transmission alpha of O = alpha (B + S) + (1 - alpha) A
            (``None`` without a veil).
        airlight: ``(3,)`` atmospheric light A of that veil (``None`` without one).
        regime: The real-mix regime that drew this rain (``""`` for a preset).
    """

    image: np.ndarray
    background: np.ndarray
    streaks: np.ndarray
    alpha: np.ndarray
    reliance: np.ndarray | None = None
    transmission: np.ndarray | None = None
    airlight: np.ndarray | None = None
    regime: str = ""


def _reliance(background: np.ndarray) -> np.ndarray:
    """Rain reliance A: opaque drops show a bright, desaturated average of the scene.

    Paper 003 learns A and does not say how it synthesises it; we pick a flat colour 70 % of the
    way from the scene's mean colour to white.
    """
    mean = background.reshape(-1, 3).mean(axis=0)
    colour = (0.3 * mean + 0.7).astype(np.float32)
    return np.broadcast_to(colour, background.shape).copy()


def compose(
    background: np.ndarray, layer: np.ndarray, params: RainParams, composition: Composition, haze: float = 0.0
) -> RainComposite:
    """Combine B with a grey streak map ``layer`` ``(H, W)`` by the chosen model, then add haze.

    Haze is a uniform veil ``I <- (1 - haze) I + haze * airlight`` (airlight 0.85 grey), applied
    last so it covers streaks too; B stays haze-free ground truth.
    """
    streaks = np.repeat(layer[:, :, None], 3, axis=2)
    alpha = np.zeros(layer.shape, np.float32)
    reliance = None
    if composition == "additive":
        image = np.clip(background + streaks, 0.0, 1.0)
    elif composition == "screen":
        image = 1.0 - (1.0 - background) * (1.0 - streaks)
    elif composition == "occlusion":
        level = layer / max(params.intensity, 1e-6)
        alpha = np.clip((level - params.occlusion) / (1.0 - params.occlusion), 0.0, 1.0).astype(np.float32)
        reliance = _reliance(background)
        a = alpha[:, :, None]
        image = np.clip((1.0 - a) * (background + streaks) + a * reliance, 0.0, 1.0)
    else:
        raise ValueError(f"composition {composition!r}: choose from {', '.join(COMPOSITIONS)}")
    if haze > 0:
        image = apply_veil(image, 1.0 - haze, 0.85)
    return RainComposite(image.astype(np.float32), background, streaks, alpha, reliance)
