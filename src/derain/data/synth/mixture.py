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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from derain.data.synth.compose import Composition, RainComposite, compose
from derain.data.synth.degrade import Degradation, DegradeRanges, degrade, degrade_pair, draw_degradation
from derain.data.synth.drops import near_drops
from derain.data.synth.params import MIXTURE_NAMES, RainParams, resolve_params
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
class RainRecipe:
    """Everything drawn about one image's rain except where its drops fall.

    Attributes:
        regime: Name of the regime the recipe came from (for contact sheets and tests).
        stacks: Streak layer stacks, rendered and summed (a stack with ``texture_dir`` is a texture).
        tone: ``None`` for bright streaks (the composition adds them); else a grey level that the
            streaks blend toward, I = B + S (tone - B): darker than a bright sky, brighter than
            dark ground, as drops refracting a grey environment are.
        veil: Mean veil strength 1 - alpha of the JORDER model (0 = none).
        drops: Number of defocused near drops.
        soften: Sigma (px) of a Gaussian blur of the streak layer (0 = none): most drops are out of
            the focal plane, so real streaks are softer and fainter than the drawn ones.
        degradation: Camera degradations of the rainy image.
        camera_in_target: Whether B gets the same degradations (``real-mix-5``).
        scene_haze: Strength of a uniform haze that belongs to the scene (0 = none): applied to B
            itself, so the clean target keeps it.
        scene_airlight: Grey level of that haze.
    """

    regime: str
    stacks: tuple[RainParams, ...]
    tone: float | None = None
    veil: float = 0.0
    drops: int = 0
    soften: float = 0.0
    degradation: Degradation = dataclasses.field(default_factory=Degradation)
    camera_in_target: bool = False
    scene_haze: float = 0.0
    scene_airlight: float = 0.85


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _angle(rng: np.random.Generator) -> float:
    """Mean fall direction: mostly near vertical, wind tilts it (N(0, 12 deg), at most 45)."""
    return float(np.clip(rng.normal(0.0, 12.0), -45.0, 45.0))


Span = tuple[float, float]


@dataclass(frozen=True)
class StackRanges:
    """Where a regime draws one streak stack: a ``(lo, hi)`` pair is drawn uniformly (``layers``:
    an integer in ``[lo, hi)``), a plain number is fixed.

    Fields are drawn in :class:`RainParams` order (density, length, width, angle, spread,
    intensity, layers, threshold), so a seed's rain never depends on how a regime is written.
    """

    density: Span
    length: Span
    width: Span
    angle_spread: float | Span
    intensity: Span
    layers: int | tuple[int, int]
    threshold: float | Span

    def draw(self, rng: np.random.Generator, angle: float | None = None) -> RainParams:
        """One stack's parameters; ``angle`` fixes the direction (else a wind-tilted one is drawn)."""

        def value(span: float | Span) -> float:
            return _u(rng, *span) if isinstance(span, tuple) else float(span)

        density, length, width = value(self.density), value(self.length), value(self.width)
        angle = _angle(rng) if angle is None else angle
        spread, intensity = value(self.angle_spread), value(self.intensity)
        layers = int(rng.integers(*self.layers)) if isinstance(self.layers, tuple) else self.layers
        return RainParams(
            density=density,
            length=length,
            width=width,
            angle=angle,
            angle_spread=spread,
            intensity=intensity,
            layers=layers,
            threshold=value(self.threshold),
        )


#: The streak stacks of the regimes (our ranges, chosen by eye against bench/real; module docstring).
LIGHT = StackRanges((0.0008, 0.0025), (8, 30), (0.3, 0.8), (2, 6), (0.25, 0.6), (2, 4), (0.05, 0.3))
MEDIUM = StackRanges((0.0008, 0.002), (15, 45), (0.5, 1.3), (2, 8), (0.3, 0.6), 3, (0.05, 0.3))
HEAVY = StackRanges((0.0008, 0.002), (25, 70), (0.8, 2.2), (3, 10), (0.35, 0.7), 4, (0.1, 0.3))
#: Dense, thin, faint streaks (under a strong veil): how downpours look in real photos.
MISTY = StackRanges((0.004, 0.012), (10, 40), (0.3, 0.7), (2, 8), (0.1, 0.3), 3, (0.05, 0.25))
#: Long, translucent, dense streaks (Rain100H), drawn twice in two directions.
RAIN100H = StackRanges((0.0006, 0.0018), (40, 110), (0.8, 2.0), 3.0, (0.2, 0.45), 2, (0.02, 0.15))
#: Near, defocused streaks: wide, blurry, faint bands.
BROAD_NEAR = StackRanges((0.0001, 0.0004), (50, 150), (2.5, 5.0), 3.0, (0.12, 0.3), 2, 0.02)
#: Dense, wide, soft, overlapping bands (threshold 0 keeps the Gaussian profile; real-mix-6 only).
BANDS = StackRanges((0.0002, 0.0005), (80, 250), (2, 7), 2.0, (0.05, 0.16), (2, 4), 0.0)
#: Near, lit streaks: thick, bright, sharp strokes (SPA-Data's close rain; real-mix-2 only).
NEAR_BRIGHT = StackRanges((0.0002, 0.0007), (25, 80), (1.8, 4.0), (2, 6), (0.5, 0.9), (1, 3), (0.05, 0.2))


def _light(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("light", (LIGHT.draw(rng),))


def _medium(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("medium", (MEDIUM.draw(rng),))


def _heavy(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("heavy", (HEAVY.draw(rng),), veil=_u(rng, 0.1, 0.35))


def _misty(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("misty", (MISTY.draw(rng),), veil=_u(rng, 0.2, 0.5))


def _rain100h(rng: np.random.Generator) -> RainRecipe:
    """Two directions a few to 25 degrees apart."""
    first = _angle(rng)
    second = float(np.clip(first + rng.choice((-1, 1)) * _u(rng, 5, 25), -60.0, 60.0))
    return RainRecipe("rain100h", tuple(RAIN100H.draw(rng, angle) for angle in (first, second)))


def _broad(rng: np.random.Generator) -> RainRecipe:
    """Near, defocused streaks over a medium far layer."""
    return RainRecipe("broad", (BROAD_NEAR.draw(rng), *_medium(rng).stacks))


def _dark(rng: np.random.Generator) -> RainRecipe:
    """Medium or heavy streaks blending toward a grey: dark against a bright sky."""
    base = _heavy(rng) if rng.random() < 0.5 else _medium(rng)
    return dataclasses.replace(base, regime="dark", tone=_u(rng, 0.15, 0.55))


def _near(rng: np.random.Generator) -> RainRecipe:
    """Thick bright near strokes, sometimes over a light far layer."""
    stacks = [NEAR_BRIGHT.draw(rng)]
    if rng.random() < 0.5:
        stacks.extend(_light(rng).stacks)
    return RainRecipe("near", tuple(stacks))


def _bands(rng: np.random.Generator) -> RainRecipe:
    """Wide soft bands, half the time with medium streaks along them, under a veil of 0-0.15."""
    angle = _angle(rng)
    stacks = [BANDS.draw(rng, angle)]
    if rng.random() < 0.5:
        stacks.append(MEDIUM.draw(rng, angle))
    return RainRecipe("bands", tuple(stacks), veil=_u(rng, 0.0, 0.15))


def _texture(rng: np.random.Generator, streak_dir: Path) -> RainRecipe:
    """A Garg-Nayar rendered streak texture, sometimes over a light procedural layer."""
    stacks = [RainParams(texture_dir=streak_dir, intensity=_u(rng, 0.4, 0.9))]
    if rng.random() < 0.5:
        stacks.extend(_light(rng).stacks)
    return RainRecipe("texture", tuple(stacks))


_Regime = Callable[[np.random.Generator], RainRecipe]
#: real-mix's regimes and their weights; "texture" joins when a streak folder is available.
REAL_MIX: dict[str, tuple[float, _Regime]] = {
    "light": (0.1, _light),
    "medium": (0.1, _medium),
    "heavy": (0.14, _heavy),
    "misty": (0.12, _misty),
    "rain100h": (0.18, _rain100h),
    "broad": (0.07, _broad),
    "dark": (0.11, _dark),
}
_TEXTURE_WEIGHT = 0.18


@dataclass(frozen=True)
class Mixture:
    """A named mixture: its regimes and the per-image extras it draws.

    Attributes:
        regimes: name -> (weight, recipe drawer); "texture" joins when a streak folder is available.
        free_veil: Probability of a faint veil on a regime that has none of its own.
        scene_haze: Probability that the scene itself is hazy (kept in the clean target).
        degrade: Camera degradations of the rainy image and how often each happens.
        camera_in_target: The clean target gets the rainy image's camera too (:func:`degrade_pair`).
    """

    regimes: dict[str, tuple[float, _Regime]]
    free_veil: float
    scene_haze: float
    degrade: DegradeRanges = REAL_MIX_DEGRADE
    camera_in_target: bool = False


#: The mixtures by name (each also in :data:`derain.data.synth.params.MIXTURE_NAMES`).
MIXTURES: dict[str, Mixture] = {
    "real-mix": Mixture(REAL_MIX, free_veil=0.3, scene_haze=0.0),
    "real-mix-2": Mixture(REAL_MIX | {"near": (0.1, _near)}, free_veil=0.0, scene_haze=0.2),
    "real-mix-3": Mixture(REAL_MIX | {"near": (0.1, _near)}, free_veil=0.0, scene_haze=0.4),
    "real-mix-4": Mixture(REAL_MIX | {"near": (0.1, _near)}, free_veil=0.0, scene_haze=0.4, degrade=HALF_DEGRADE),
    "real-mix-5": Mixture(REAL_MIX | {"near": (0.1, _near)}, free_veil=0.0, scene_haze=0.4, camera_in_target=True),
    "real-mix-6": Mixture(
        REAL_MIX | {"near": (0.1, _near), "bands": (0.15, _bands)}, free_veil=0.0, scene_haze=0.4, camera_in_target=True
    ),
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
    regimes: dict[str, tuple[float, _Regime]] = dict(spec.regimes)
    if streak_dir is not None:
        regimes["texture"] = (_TEXTURE_WEIGHT, lambda r: _texture(r, streak_dir))
    names = list(regimes)
    weights = np.array([regimes[n][0] for n in names])
    recipe = regimes[names[int(rng.choice(len(names), p=weights / weights.sum()))]][1](rng)
    veil_on, drops_on, soft_on = rng.random(3) < (spec.free_veil, 0.15, 0.5)
    veil = recipe.veil or (_u(rng, 0.05, 0.3) if veil_on else 0.0)
    drops = int(rng.integers(1, 6)) if drops_on else 0
    soften = _u(rng, 0.5, 1.5) if soft_on else 0.0
    degradation = draw_degradation(spec.degrade, rng)
    recipe = dataclasses.replace(
        recipe, veil=veil, drops=drops, soften=soften, degradation=degradation, camera_in_target=spec.camera_in_target
    )
    if spec.scene_haze > 0 and rng.random() < spec.scene_haze:
        recipe = dataclasses.replace(recipe, scene_haze=_u(rng, 0.05, 0.35), scene_airlight=_u(rng, 0.6, 0.95))
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
