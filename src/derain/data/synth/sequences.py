"""Multi-frame rain: static-camera time-lapse scenes and moving-camera videos (paper 003)."""

from __future__ import annotations

import dataclasses
import io
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from derain.data.synth.compose import Composition, RainComposite, compose
from derain.data.synth.params import RainParams, resolve_params
from derain.data.synth.streaks import render_streaks

__all__ = ["MOTIONS", "Motion", "draw_regime", "synth_timelapse", "synth_video"]

Motion = Literal["pan", "zoom", "none"]
MOTIONS: tuple[str, ...] = ("pan", "zoom", "none")


def draw_regime(params: RainParams, rng: np.random.Generator) -> RainParams:
    """One scene's rain regime: direction +-20 deg, density x0.6-1.5, size x0.8-1.25 around params.

    Drawn once per scene and shared by its frames (the rain of a time-lapse or a clip keeps its
    character); the ranges are our choice, paper 000 collects real scenes instead.
    """
    size = rng.uniform(0.8, 1.25)
    return dataclasses.replace(
        params,
        angle=float(np.clip(params.angle + rng.uniform(-20.0, 20.0), -90.0, 90.0)),
        density=params.density * rng.uniform(0.6, 1.5),
        length=params.length * size,
        width=params.width * size,
    )


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through an in-memory JPEG (PIL; deterministic)."""
    buf = io.BytesIO()
    Image.fromarray((image * 255.0 + 0.5).astype(np.uint8)).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf), dtype=np.float32) / 255.0


def _camera_effects(
    image: np.ndarray, rng: np.random.Generator, exposure_drift: float, noise_sigma: float, jpeg_quality: int | None
) -> np.ndarray:
    """Per-frame exposure gain exp(N(0, drift)), Gaussian sensor noise and JPEG, on I only."""
    if exposure_drift > 0:
        image = image * np.float32(np.exp(exposure_drift * rng.standard_normal()))
    if noise_sigma > 0:
        image = image + rng.normal(0.0, noise_sigma, image.shape).astype(np.float32)
    image = np.clip(image, 0.0, 1.0)
    if jpeg_quality is not None:
        image = _jpeg(image, jpeg_quality)
    return image.astype(np.float32)


def synth_timelapse(
    background: np.ndarray,
    n_frames: int,
    rng: np.random.Generator,
    *,
    preset: RainParams | str = "medium",
    composition: Composition = "additive",
    exposure_drift: float = 0.0,
    noise_sigma: float = 0.0,
    jpeg_quality: int | None = None,
) -> list[RainComposite]:
    """A static scene seen ``n_frames`` times, with independent rain per frame and one regime.

    Every frame's ``background`` is the same array (the scene). Exposure drift, noise and JPEG
    model the camera and touch only ``image``; so with them on, ``image`` no longer equals the
    composition formula, by design: a time-lapse trainer never sees ``background``.
    """
    background = np.asarray(background, dtype=np.float32)
    regime = draw_regime(resolve_params(preset), rng)
    frames = []
    for _ in range(n_frames):
        layer = render_streaks(background.shape[:2], regime, rng)
        frame = compose(background, layer, regime, composition)
        frame.image = _camera_effects(frame.image, rng, exposure_drift, noise_sigma, jpeg_quality)
        frames.append(frame)
    return frames


def _camera_path(
    src: tuple[int, int], out: tuple[int, int], n: int, motion: Motion, rng: np.random.Generator
) -> list[np.ndarray]:
    """Per-frame 2x3 affine maps from output to background pixels for a pan, a zoom or no motion.

    Pan: the window slides in a straight line between two random positions that fit. Zoom: the
    view narrows from scale 1 to 1/1.1-1/1.3 around the centre. Rescaling and displacement are
    the motions paper 003 simulates; the speeds are our choice.
    """
    (sh, sw), (oh, ow) = src, out
    centre = np.array([(sw - 1) / 2, (sh - 1) / 2])
    margin = np.array([(sw - ow) / 2, (sh - oh) / 2])
    start, end, zoom_end = centre, centre, 1.0
    if motion == "pan":
        start = centre + margin * rng.uniform(-1, 1, 2)
        end = centre + margin * rng.uniform(-1, 1, 2)
    elif motion == "zoom":
        zoom_end = rng.uniform(1.1, 1.3)
    elif motion != "none":
        raise ValueError(f"motion {motion!r}: choose from {', '.join(MOTIONS)}")
    maps = []
    for t in np.linspace(0.0, 1.0, n) if n > 1 else [0.0]:
        c = start + t * (end - start)
        k = 1.0 / (1.0 + t * (zoom_end - 1.0))
        oc = np.array([(ow - 1) / 2, (oh - 1) / 2])
        maps.append(np.array([[k, 0.0, c[0] - k * oc[0]], [0.0, k, c[1] - k * oc[1]]], np.float64))
    return maps


def synth_video(
    background: np.ndarray,
    n_frames: int,
    rng: np.random.Generator,
    *,
    preset: RainParams | str = "medium",
    motion: Motion = "pan",
    out_size: tuple[int, int] | None = None,
    composition: Composition = "additive",
) -> list[RainComposite]:
    """A still background under a moving camera, new rain every frame, ground truth every frame.

    Args:
        background: The still scene; frames are windows of it.
        n_frames: Number of frames.
        rng: Source of randomness.
        preset: Rain preset or params; one regime is drawn for the whole clip.
        motion: "pan", "zoom" or "none".
        out_size: Frame ``(height, width)``; default 80 % of the background (room to pan).
        composition: As in :func:`add_rain`.
    """
    background = np.asarray(background, dtype=np.float32)
    sh, sw = background.shape[:2]
    oh, ow = out_size or (max(1, int(sh * 0.8)), max(1, int(sw * 0.8)))
    if oh > sh or ow > sw:
        raise ValueError(f"out_size {(oh, ow)} is larger than the background {(sh, sw)}")
    regime = draw_regime(resolve_params(preset), rng)
    frames = []
    for m in _camera_path((sh, sw), (oh, ow), n_frames, motion, rng):
        clean = cv2.warpAffine(
            background, m, (ow, oh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
        )
        frames.append(compose(clean, render_streaks((oh, ow), regime, rng), regime, composition))
    return frames
