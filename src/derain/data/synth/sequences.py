"""Multi-frame rain: static-camera time-lapse scenes and moving-camera videos (paper 003)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from derain.data.synth.compose import Composition, RainComposite, compose
from derain.data.synth.degrade import jpeg_round_trip
from derain.data.synth.mixture import draw_recipe, render_recipe, streak_source
from derain.data.synth.params import MIXTURE_NAMES, RainParams, resolve_params
from derain.data.synth.streaks import render_streaks

__all__ = ["MOTIONS", "Motion", "draw_regime", "synth_timelapse", "synth_video"]

Motion = Literal["pan", "zoom", "handheld", "none"]
MOTIONS: tuple[str, ...] = ("pan", "zoom", "handheld", "none")


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
        image = jpeg_round_trip(image, jpeg_quality)
    return image.astype(np.float32)


def _frame_renderer(
    preset: RainParams | str, rng: np.random.Generator, composition: Composition, streak_dir: str | Path | None
) -> Callable[[np.ndarray], RainComposite]:
    """Draw one sequence's rain once (a mixture recipe, or a preset's regime); render fresh rain per frame.

    With a mixture, the regime, veil strength, near-drop count and camera settings hold for the
    whole sequence, while streaks, the veil's pattern and drop positions are new every frame.
    """
    if isinstance(preset, str) and preset in MIXTURE_NAMES:
        recipe = draw_recipe(rng, streak_source(streak_dir), preset)
        return lambda clean: render_recipe(clean, recipe, rng, composition=composition)
    regime = draw_regime(resolve_params(preset), rng)
    return lambda clean: compose(clean, render_streaks(clean.shape[:2], regime, rng), regime, composition)


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
    streak_dir: str | Path | None = None,
) -> list[RainComposite]:
    """A static scene seen ``n_frames`` times, with independent rain per frame and one regime.

    Every frame's ``background`` is the same array (the scene). Exposure drift, noise and JPEG
    model the camera and touch only ``image``; so with them on, ``image`` no longer equals the
    composition formula, by design: a time-lapse trainer never sees ``background``. ``preset``
    may be a mixture (``real-mix``, textures from ``streak_dir``).
    """
    background = np.asarray(background, dtype=np.float32)
    render = _frame_renderer(preset, rng, composition, streak_dir)
    frames = []
    for _ in range(n_frames):
        frame = render(background)
        frame.image = _camera_effects(frame.image, rng, exposure_drift, noise_sigma, jpeg_quality)
        frames.append(frame)
    return frames


def _camera_path(
    src: tuple[int, int], out: tuple[int, int], n: int, motion: Motion, rng: np.random.Generator
) -> list[np.ndarray]:
    """Per-frame 2x3 affine maps from output to background pixels for a pan, a zoom, a hand-held drift or none.

    Pan: the window slides in a straight line between two random positions that fit. Zoom: the
    view narrows from scale 1 to 1/1.1-1/1.3 around the centre. Hand-held: a pan over half the
    room, a zoom in or out by up to 1.15x and a rotation of up to 3 degrees, all linear in time
    (paper 003 simulates rescaling and displacement; the slight rotation is ours). Out-of-window
    pixels are reflected by the caller. The speeds are our choice.
    """
    (sh, sw), (oh, ow) = src, out
    centre = np.array([(sw - 1) / 2, (sh - 1) / 2])
    margin = np.array([(sw - ow) / 2, (sh - oh) / 2])
    start, end, zoom_end, turn = centre, centre, 1.0, 0.0
    if motion == "pan":
        start = centre + margin * rng.uniform(-1, 1, 2)
        end = centre + margin * rng.uniform(-1, 1, 2)
    elif motion == "zoom":
        zoom_end = rng.uniform(1.1, 1.3)
    elif motion == "handheld":
        start = centre + 0.5 * margin * rng.uniform(-1, 1, 2)
        end = centre + 0.5 * margin * rng.uniform(-1, 1, 2)
        zoom_end = rng.uniform(1 / 1.15, 1.15)
        turn = np.radians(rng.uniform(-3.0, 3.0))
    elif motion != "none":
        raise ValueError(f"motion {motion!r}: choose from {', '.join(MOTIONS)}")
    maps = []
    oc = np.array([(ow - 1) / 2, (oh - 1) / 2])
    for t in np.linspace(0.0, 1.0, n) if n > 1 else [0.0]:
        c = start + t * (end - start)
        k = 1.0 / (1.0 + t * (zoom_end - 1.0))
        cos, sin = k * np.cos(t * turn), k * np.sin(t * turn)
        linear = np.array([[cos, -sin], [sin, cos]])
        maps.append(np.hstack([linear, (c - linear @ oc)[:, None]]))
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
    streak_dir: str | Path | None = None,
) -> list[RainComposite]:
    """A still background under a moving camera, new rain every frame, ground truth every frame.

    Args:
        background: The still scene; frames are windows of it.
        n_frames: Number of frames.
        rng: Source of randomness.
        preset: Rain preset, params or mixture; one regime is drawn for the whole clip.
        motion: "pan", "zoom", "handheld" or "none".
        out_size: Frame ``(height, width)``; default 80 % of the background (room to pan).
        composition: As in :func:`add_rain`.
        streak_dir: Texture folder of a mixture.
    """
    background = np.asarray(background, dtype=np.float32)
    sh, sw = background.shape[:2]
    oh, ow = out_size or (max(1, int(sh * 0.8)), max(1, int(sw * 0.8)))
    if oh > sh or ow > sw:
        raise ValueError(f"out_size {(oh, ow)} is larger than the background {(sh, sw)}")
    render = _frame_renderer(preset, rng, composition, streak_dir)
    frames = []
    for m in _camera_path((sh, sw), (oh, ow), n_frames, motion, rng):
        clean = cv2.warpAffine(
            background, m, (ow, oh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
        )
        frames.append(render(clean))
    return frames
