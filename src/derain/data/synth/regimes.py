"""The regimes of real rain that the real-mix mixtures draw from: one image's recipe, per regime.

Each regime draws the streak stacks of one look of rain (light, medium, heavy, misty, Rain100H-like,
broad, dark, near, curved, bands, long, textures) with our ranges, picked by eye against ``bench/real``
(docs/quality.md, "Rain synthesis"); :mod:`derain.data.synth.mixture` weighs them into mixtures and
renders them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derain.data.synth.degrade import Degradation
from derain.data.synth.params import RainParams

__all__ = ["REAL_MIX", "REGIMES", "TEXTURE_WEIGHT", "RainRecipe", "Regime", "StackRanges", "texture_recipe", "uniform"]


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


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
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
    ``bend`` (degrees, drawn last with a random sign) is drawn only when it is a range, so the
    regimes without it draw exactly as before it existed.
    """

    density: Span
    length: Span
    width: Span
    angle_spread: float | Span
    intensity: Span
    layers: int | tuple[int, int]
    threshold: float | Span
    bend: float | Span = 0.0

    def draw(self, rng: np.random.Generator, angle: float | None = None) -> RainParams:
        """One stack's parameters; ``angle`` fixes the direction (else a wind-tilted one is drawn)."""

        def value(span: float | Span) -> float:
            return uniform(rng, *span) if isinstance(span, tuple) else float(span)

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
            bend=value(self.bend) * float(rng.choice((-1, 1))) if isinstance(self.bend, tuple) else self.bend,
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
#: Near drops swept by gusts: NEAR_BRIGHT's strokes, longer, along arcs turning 15-50 degrees (real-mix-7 only).
NEAR_CURVED = StackRanges((0.00015, 0.0005), (40, 130), (1.8, 4.0), (2, 6), (0.5, 0.9), (1, 3), (0.05, 0.2), (15, 50))
#: Very long, dense, thin translucent streaks near vertical: the look of the real Rain100H pairs, whose
#: streaks cross the whole image (``long-rain`` only; sparse grains, since each one draws 150-400 px).
LONG = StackRanges((0.0002, 0.0006), (150, 400), (0.4, 1.4), 2.0, (0.25, 0.6), (2, 4), (0.02, 0.15))


def _light(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("light", (LIGHT.draw(rng),))


def _medium(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("medium", (MEDIUM.draw(rng),))


def _heavy(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("heavy", (HEAVY.draw(rng),), veil=uniform(rng, 0.1, 0.35))


def _misty(rng: np.random.Generator) -> RainRecipe:
    return RainRecipe("misty", (MISTY.draw(rng),), veil=uniform(rng, 0.2, 0.5))


def _rain100h(rng: np.random.Generator) -> RainRecipe:
    """Two directions a few to 25 degrees apart."""
    first = _angle(rng)
    second = float(np.clip(first + rng.choice((-1, 1)) * uniform(rng, 5, 25), -60.0, 60.0))
    return RainRecipe("rain100h", tuple(RAIN100H.draw(rng, angle) for angle in (first, second)))


def _long(rng: np.random.Generator) -> RainRecipe:
    """Long streaks near vertical (N(0, 7 deg)), half the time with a second stack 3-12 degrees off."""
    angle = 0.6 * _angle(rng)
    stacks = [LONG.draw(rng, angle)]
    if rng.random() < 0.5:
        stacks.append(LONG.draw(rng, angle + float(rng.choice((-1, 1))) * uniform(rng, 3, 12)))
    return RainRecipe("long", tuple(stacks))


def _broad(rng: np.random.Generator) -> RainRecipe:
    """Near, defocused streaks over a medium far layer."""
    return RainRecipe("broad", (BROAD_NEAR.draw(rng), *_medium(rng).stacks))


def _dark(rng: np.random.Generator) -> RainRecipe:
    """Medium or heavy streaks blending toward a grey: dark against a bright sky."""
    base = _heavy(rng) if rng.random() < 0.5 else _medium(rng)
    return dataclasses.replace(base, regime="dark", tone=uniform(rng, 0.15, 0.55))


def _over_light_half_the_time(regime: str, stack: RainParams, rng: np.random.Generator) -> RainRecipe:
    """``stack``, half the time over a light far layer (drawn after it, so seeds keep their rain)."""
    stacks = [stack]
    if rng.random() < 0.5:
        stacks.extend(_light(rng).stacks)
    return RainRecipe(regime, tuple(stacks))


def _near(rng: np.random.Generator) -> RainRecipe:
    """Thick bright near strokes, sometimes over a light far layer."""
    return _over_light_half_the_time("near", NEAR_BRIGHT.draw(rng), rng)


def _curved(rng: np.random.Generator) -> RainRecipe:
    """Thick bright near strokes along arcs, sometimes over a light far layer."""
    return _over_light_half_the_time("curved", NEAR_CURVED.draw(rng), rng)


def _bands(rng: np.random.Generator) -> RainRecipe:
    """Wide soft bands, half the time with medium streaks along them, under a veil of 0-0.15."""
    angle = _angle(rng)
    stacks = [BANDS.draw(rng, angle)]
    if rng.random() < 0.5:
        stacks.append(MEDIUM.draw(rng, angle))
    return RainRecipe("bands", tuple(stacks), veil=uniform(rng, 0.0, 0.15))


def texture_recipe(rng: np.random.Generator, streak_dir: Path) -> RainRecipe:
    """A Garg-Nayar rendered streak texture, sometimes over a light procedural layer."""
    texture = RainParams(texture_dir=streak_dir, intensity=uniform(rng, 0.4, 0.9))
    return _over_light_half_the_time("texture", texture, rng)


Regime = Callable[[np.random.Generator], RainRecipe]
#: Every regime's drawer by name (the texture regime needs a folder: :func:`texture_recipe`).
REGIMES: dict[str, Regime] = {
    "light": _light,
    "medium": _medium,
    "heavy": _heavy,
    "misty": _misty,
    "rain100h": _rain100h,
    "broad": _broad,
    "dark": _dark,
    "near": _near,
    "curved": _curved,
    "bands": _bands,
    "long": _long,
}
_REAL_MIX_WEIGHTS = {
    "light": 0.1,
    "medium": 0.1,
    "heavy": 0.14,
    "misty": 0.12,
    "rain100h": 0.18,
    "broad": 0.07,
    "dark": 0.11,
}
#: real-mix's regimes and their weights; "texture" joins when a streak folder is available.
REAL_MIX: dict[str, tuple[float, Regime]] = {
    name: (weight, REGIMES[name]) for name, weight in _REAL_MIX_WEIGHTS.items()
}
TEXTURE_WEIGHT = 0.18
