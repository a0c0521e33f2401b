"""``real-mix``: per image, draw one regime of real rain, then render it; and :func:`add_rain`.

Real rain is not one look. Each image draws a regime (light, medium or heavy streaks; Rain100H-
like long translucent streaks in two directions; broad defocused streaks; streaks darker than a
bright sky; Garg-Nayar rendered streak textures), then, independently, a JORDER veil, defocused
near drops and camera degradations of the rainy image (Real-ESRGAN). The ranges are our choices,
picked by looking at real photos (``bench/real``, eyes only) and matching the identity PSNR of the
heavy regime to the real Rain100H pairs (docs/quality.md, "Rain synthesis").

Each later mixture fixes what models trained on the one before got wrong; the earlier ones stay
unchanged, so earlier legs stay reproducible seed for seed (docs/quality.md has the evidence):

- ``real-mix-2``: haze is not rain. ``real-mix`` put a faint veil on 30 % of *any* rain with a
  haze-free target, so models dehazed every hazy photo. Here only the dense regimes carry a veil, a
  fifth of the scenes are hazy *in the target*, and thick bright near strokes join the regimes.
- ``real-mix-3``: twice the hazy scenes (two in five); models still darkened bright hazy regions.
- ``real-mix-4``: ``real-mix-3`` with each camera degradation half as often.
- ``real-mix-5``: ``real-mix-3``'s rainy images, seed for seed, with the camera in the clean target
  too (:func:`degrade_pair`), so the rain is the only difference left, as in paired benchmarks.
- ``real-mix-6``: ``real-mix-5`` plus a ``bands`` regime: dense, wide (sigma 2-7 px), soft,
  overlapping bands, the Photoshop-rain look of the heaviest ``sirr_val20`` pairs, which brighten
  the whole image and which no earlier regime draws (docs/methods/fastnet.md, "Round 18").
- ``real-mix-7``: ``real-mix-6`` plus a ``curved`` regime: thick bright near strokes along arcs,
  the trails that models trained longer on ``real-mix-6`` leave on ``spa_real2`` (docs/quality.md,
  "Curved near trails"); ``spa_real2`` is a development figure for it, not a held-out one.

``long-rain`` is not a successor but one look on its own: ``real-mix-7``'s extras over the ``long``
regime only (no textures), to stand in a training list where the dense ``rain100h-like`` preset did.
Its streaks were drawn looking at the real Rain100H pairs, so ``rain100h_trainsub18`` is a
development figure for it (docs/quality.md, "Long streaks: long-rain"). ``near-rain`` does the same for
``real-mix-7``'s thick bright near strokes, straight and curved (half each): the SPA trails that
continued legs leave (docs/methods/fastnet.md, round 29), so ``spa_real2`` is a development figure for it.
``wind-rain`` draws ``real-mix-6``'s regimes (no textures: their direction is fixed) and tilts each image's
rain 15-50 degrees further: in real-mix-7 one stack in 17 leans more than 25 degrees (here two in three),
and models trained on them miss the tilted streaks of ``sirr_val20`` (its eight light pairs lean 26-50
degrees, ``benchmarks/rain_stats.py``) and dim thin vertical edges (docs/quality.md, "Wind");
``sirr_val20`` is a development figure for it. It teaches its own held-out rain, not ``sirr_val20``'s
(docs/methods/fastnet.md, round 34).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from derain.data.synth.compose import Composition, RainComposite, compose
from derain.data.synth.degrade import DegradeRanges, degrade, degrade_pair, draw_degradation
from derain.data.synth.drops import near_drops
from derain.data.synth.params import MIXTURE_NAMES, RainParams, resolve_params
from derain.data.synth.regimes import REAL_MIX, REGIMES, TEXTURE_WEIGHT, RainRecipe, Regime, texture_recipe, uniform
from derain.data.synth.streaks import render_streaks, texture_files
from derain.data.synth.veil import apply_veil, draw_veil
from derain.errors import DatasetError

__all__ = [
    "DEFAULT_STREAK_DIR",
    "MIXTURES",
    "REAL_MIX",
    "Mixture",
    "RainRecipe",
    "add_rain",
    "draw_recipe",
    "render_recipe",
    "streak_source",
]

#: Garg-Nayar streak textures next to the repository (``../shared/data/rain_streaks``).
DEFAULT_STREAK_DIR = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "rain_streaks"
#: Camera degradations of real-mix (Real-ESRGAN order: blur, resize, noise, JPEG).
REAL_MIX_DEGRADE = DegradeRanges()
#: real-mix-4's: the same ranges, each degradation half as often.
HALF_DEGRADE = dataclasses.replace(REAL_MIX_DEGRADE, p_blur=0.15, p_scale=0.2, p_noise=0.25, p_jpeg=0.4)


@dataclass(frozen=True)
class Mixture:
    """A named mixture: its regimes and the per-image extras it draws.

    Attributes:
        regimes: name -> (weight, recipe drawer); "texture" joins when a streak folder is available.
        free_veil: Probability of a faint veil on a regime that has none of its own.
        scene_haze: Probability that the scene itself is hazy (kept in the clean target).
        degrade: Camera degradations of the rainy image and how often each happens.
        camera_in_target: The clean target gets the rainy image's camera too (:func:`degrade_pair`).
        textures: Whether the Garg-Nayar texture regime joins when a streak folder is available.
        wind: ``(lo, hi)`` degrees: every stack of an image is tilted by one extra angle, drawn from
            that range with a random sign, after everything else (None: no extra tilt).
    """

    regimes: dict[str, tuple[float, Regime]]
    free_veil: float
    scene_haze: float
    degrade: DegradeRanges = REAL_MIX_DEGRADE
    camera_in_target: bool = False
    textures: bool = True
    wind: tuple[float, float] | None = None


#: What later mixtures add to real-mix's regimes, with their weights (dict order is draw order).
_NEAR = {"near": (0.1, REGIMES["near"])}
_BANDS = {"bands": (0.15, REGIMES["bands"])}
_CURVED = {"curved": (0.1, REGIMES["curved"])}
_REAL_MIX_6 = Mixture(REAL_MIX | _NEAR | _BANDS, free_veil=0.0, scene_haze=0.4, camera_in_target=True)
#: The mixtures by name (each also in :data:`derain.data.synth.params.MIXTURE_NAMES`).
MIXTURES: dict[str, Mixture] = {
    "real-mix": Mixture(REAL_MIX, free_veil=0.3, scene_haze=0.0),
    "real-mix-2": Mixture(REAL_MIX | _NEAR, free_veil=0.0, scene_haze=0.2),
    "real-mix-3": Mixture(REAL_MIX | _NEAR, free_veil=0.0, scene_haze=0.4),
    "real-mix-4": Mixture(REAL_MIX | _NEAR, free_veil=0.0, scene_haze=0.4, degrade=HALF_DEGRADE),
    "real-mix-5": Mixture(REAL_MIX | _NEAR, free_veil=0.0, scene_haze=0.4, camera_in_target=True),
    "real-mix-6": _REAL_MIX_6,
    "real-mix-7": Mixture(REAL_MIX | _NEAR | _BANDS | _CURVED, free_veil=0.0, scene_haze=0.4, camera_in_target=True),
    "long-rain": Mixture(
        {"long": (1.0, REGIMES["long"])}, free_veil=0.0, scene_haze=0.4, camera_in_target=True, textures=False
    ),
    "near-rain": Mixture(_NEAR | _CURVED, free_veil=0.0, scene_haze=0.4, camera_in_target=True, textures=False),
    "wind-rain": dataclasses.replace(_REAL_MIX_6, textures=False, wind=(15.0, 50.0)),
}


def streak_source(streak_dir: str | Path | None) -> Path | None:
    """The texture folder real-mix draws from: ``streak_dir`` (must exist), else the default if present.

    Without the default folder (an installed package, no research data) the texture regime is
    skipped, so real-mix still renders; a folder given explicitly but missing is an error.
    """
    if streak_dir is None:
        return DEFAULT_STREAK_DIR if DEFAULT_STREAK_DIR.is_dir() else None
    folder = Path(streak_dir).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder}: streak texture folder not found (streak_dir)")
    texture_files(folder)  # no images: fail now, not in the middle of a training run
    return folder


def draw_recipe(rng: np.random.Generator, streak_dir: Path | None = None, mixture: str = "real-mix") -> RainRecipe:
    """One image's recipe from ``mixture``: a regime, then veil, near drops (p 0.15), soft streaks
    (p 0.5, sigma 0.5-1.5), degradations, and for real-mix-2 a scene haze.

    A regime's own veil (heavy rain) is kept; otherwise a faint one (0.05-0.3) is drawn with the
    mixture's ``free_veil`` probability. A scene haze has strength 0.05-0.35 and a grey of 0.6-0.95.
    Draws happen in a fixed order, and extras a mixture never uses are not drawn, so ``real-mix``
    recipes are the same seed for seed as before real-mix-2 existed.
    """
    spec = MIXTURES[mixture]
    regimes: dict[str, tuple[float, Regime]] = dict(spec.regimes)
    if streak_dir is not None and spec.textures:
        regimes["texture"] = (TEXTURE_WEIGHT, lambda r: texture_recipe(r, streak_dir))
    names = list(regimes)
    weights = np.array([regimes[n][0] for n in names])
    recipe = regimes[names[int(rng.choice(len(names), p=weights / weights.sum()))]][1](rng)
    veil_on, drops_on, soft_on = rng.random(3) < (spec.free_veil, 0.15, 0.5)
    veil = recipe.veil or (uniform(rng, 0.05, 0.3) if veil_on else 0.0)
    drops = int(rng.integers(1, 6)) if drops_on else 0
    soften = uniform(rng, 0.5, 1.5) if soft_on else 0.0
    degradation = draw_degradation(spec.degrade, rng)
    recipe = dataclasses.replace(
        recipe, veil=veil, drops=drops, soften=soften, degradation=degradation, camera_in_target=spec.camera_in_target
    )
    if spec.scene_haze > 0 and rng.random() < spec.scene_haze:
        recipe = dataclasses.replace(
            recipe, scene_haze=uniform(rng, 0.05, 0.35), scene_airlight=uniform(rng, 0.6, 0.95)
        )
    if spec.wind is not None:
        tilt = uniform(rng, *spec.wind) * float(rng.choice((-1, 1)))
        stacks = tuple(dataclasses.replace(p, angle=float(np.clip(p.angle + tilt, -80.0, 80.0))) for p in recipe.stacks)
        recipe = dataclasses.replace(recipe, stacks=stacks)
    return recipe


def render_recipe(
    background: np.ndarray,
    recipe: RainRecipe,
    rng: np.random.Generator,
    *,
    composition: Composition = "additive",
    haze: float = 0.0,
) -> RainComposite:
    """Render ``recipe`` on B: streaks (composition or tone), JORDER veil, near drops, haze, degradations.

    Near drops come after the veil: they are in front of the rain. ``streaks`` is the summed
    streak layer, raised to the near drops' alpha where they cover more. A recipe's scene haze is
    applied to B first, so the composite's ``background`` (the clean target) is the hazy scene.
    """
    if recipe.scene_haze > 0:
        background = apply_veil(background, 1.0 - recipe.scene_haze, recipe.scene_airlight)
    h, w = background.shape[:2]
    layer = np.zeros((h, w), np.float32)
    for stack in recipe.stacks:
        layer += render_streaks((h, w), stack, rng)
    if recipe.soften > 0:
        layer = cv2.GaussianBlur(layer, (0, 0), recipe.soften)
    np.clip(layer, 0.0, 1.0, out=layer)
    strongest = max(recipe.stacks, key=lambda p: p.intensity)
    comp = compose(background, layer, strongest, composition)
    comp.regime = recipe.regime
    if recipe.tone is not None:
        comp.image = (background + comp.streaks * (np.float32(recipe.tone) - background)).astype(np.float32)
    if recipe.veil > 0:
        comp.transmission, comp.airlight = draw_veil((h, w), recipe.veil, rng)
        comp.image = apply_veil(comp.image, comp.transmission, comp.airlight)
    if recipe.drops:
        alpha, colour = near_drops(background, recipe.drops, rng)
        a = alpha[:, :, None]
        comp.image = ((1.0 - a) * comp.image + a * colour).astype(np.float32)
        comp.streaks = np.maximum(comp.streaks, a)
    if haze > 0:
        comp.image = apply_veil(comp.image, 1.0 - haze, 0.85)
    if recipe.camera_in_target:
        comp.image, comp.background = degrade_pair(comp.image, comp.background, recipe.degradation, rng)
    else:
        comp.image = degrade(comp.image, recipe.degradation, rng)
    return comp


def add_rain(
    background: np.ndarray,
    params_or_preset: RainParams | str,
    rng: np.random.Generator,
    *,
    composition: Composition = "additive",
    haze: float = 0.0,
    streak_dir: str | Path | None = None,
) -> RainComposite:
    """Render fresh rain on ``background`` (float32 ``(H, W, 3)`` in [0, 1]).

    Args:
        background: The clean image B; returned as is in the composite.
        params_or_preset: A RainParams, a name from PRESETS, or a mixture name (``real-mix``).
        rng: The only source of randomness; the same generator state gives the same result.
        composition: "additive" (I = clip(B + S)), "screen" (I = 1 - (1 - B)(1 - S)) or
            "occlusion" (paper 003: I = clip((1 - alpha)(B + S) + alpha A), alpha from the
            opaque streak cores); a mixture uses it for its bright streaks.
        haze: Strength in [0, 1] of a uniform veiling haze over the result.
        streak_dir: Texture folder of a mixture (see :func:`streak_source`); presets ignore it.
    """
    if background.ndim != 3 or background.shape[2] != 3:
        raise ValueError(f"background must be (H, W, 3), got shape {background.shape}")
    background = np.asarray(background, dtype=np.float32)
    if isinstance(params_or_preset, str) and params_or_preset in MIXTURE_NAMES:
        recipe = draw_recipe(rng, streak_source(streak_dir), params_or_preset)
        return render_recipe(background, recipe, rng, composition=composition, haze=haze)
    params = resolve_params(params_or_preset)
    layer = render_streaks(background.shape[:2], params, rng)
    return compose(background, layer, params, composition, haze)
