"""Training clips for J4R (seed paper 003, section 5): a still photo under a moving camera, new rain
every frame, and the occlusion-aware hybrid rain model of eq. 3::

    O_t = (1 - alpha_t) (B_t + S_t) + alpha_t A_t,   alpha_t in {0, 1} (eq. 4)

``B_t + S_t`` is the rain of :func:`~derain.data.synth.synth_video` (any preset, composition or
mixture such as ``real-mix``, whose camera degradations then count as part of ``S_t``); the opaque
occlusions come from a second, sparser layer of wider drops whose cores (normalised level above 0.5
after the occlusion ramp) are replaced by the rain reliance ``A_t`` (a bright, desaturated scene
colour, :func:`~derain.data.synth.compose`). Each frame keeps its ground truth: ``background`` B_t,
``streaks`` S_t (the rain as seen in the frame, ``image - B_t`` before the occlusions), ``alpha``
(binary) and ``reliance`` A_t.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from derain.data.synth.compose import Composition, RainComposite, compose
from derain.data.synth.params import MIXTURE_NAMES, RainParams, resolve_params
from derain.data.synth.sequences import Motion, synth_video
from derain.data.synth.streaks import render_streaks

__all__ = ["OCCLUSION_BASE", "OCCLUSION_DROPS", "occlude", "synth_hybrid_clip"]

#: How the opaque-drop layer differs from the streak rain: this share of its density, this much wider.
OCCLUSION_DROPS = {"density": 0.5, "width": 2.0}
#: Preset the opaque drops are scaled from when the streak rain is a mixture (``real-mix``).
OCCLUSION_BASE = "medium"


def occlude(frame: RainComposite, params: RainParams, rng: np.random.Generator) -> RainComposite:
    """Lay opaque drops over ``frame`` (eq. 3): where ``alpha = 1`` the pixel is exactly the reliance A.

    Args:
        frame: streak rain on B (``image = clip(B + S)``; its ``streaks`` are replaced by ``image - B``).
        params: the opaque drops' rain parameters (their cores become the occlusions).
        rng: source of randomness.
    """
    layer = render_streaks(frame.background.shape[:2], params, rng)
    opaque = compose(frame.background, layer, params, "occlusion")
    alpha = (opaque.alpha >= 0.5).astype(np.float32)
    a = alpha[:, :, None]
    image = (1.0 - a) * frame.image + a * opaque.reliance
    streaks = frame.image - frame.background
    return RainComposite(image.astype(np.float32), frame.background, streaks, alpha, opaque.reliance)


def synth_hybrid_clip(
    background: np.ndarray,
    n_frames: int,
    rng: np.random.Generator,
    *,
    preset: RainParams | str = "medium",
    composition: Composition = "additive",
    motion: Motion = "handheld",
    out_size: tuple[int, int] | None = None,
    occlusion: bool = True,
    streak_dir: str | Path | None = None,
) -> list[RainComposite]:
    """``n_frames`` of hybrid rain on a photo seen by a moving camera (see the module docstring).

    Args:
        background: the still photo; frames are windows of it.
        n_frames: clip length.
        rng: source of randomness.
        preset: streak rain preset, params or mixture name (``real-mix``).
        composition: how the streaks combine with B ("additive" or "screen"; both give S = I - B).
        motion: camera motion (:data:`~derain.data.synth.MOTIONS`).
        out_size: frame ``(height, width)``; default 80 % of the photo.
        occlusion: False leaves the frames additive (``alpha`` all zero), for ablations.
        streak_dir: texture folder of a mixture (as :func:`~derain.data.synth.synth_video`).
    """
    if composition == "occlusion":
        raise ValueError("composition 'occlusion' is added by occlude(); choose additive or screen for the streaks")
    clip = synth_video(
        background,
        n_frames,
        rng,
        preset=preset,
        motion=motion,
        out_size=out_size,
        composition=composition,
        streak_dir=streak_dir,
    )
    base = resolve_params(OCCLUSION_BASE if isinstance(preset, str) and preset in MIXTURE_NAMES else preset)
    drops = dataclasses.replace(
        base, density=base.density * OCCLUSION_DROPS["density"], width=base.width * OCCLUSION_DROPS["width"]
    )
    if not occlusion:
        return [dataclasses.replace(f, streaks=f.image - f.background) for f in clip]
    return [occlude(frame, drops, rng) for frame in clip]
