"""Rain parameters and the named presets (light/medium/heavy, Rain100L/H look-alikes, PHP classes).

Angle convention (used everywhere in :mod:`derain.data.synth`): degrees from vertical, positive
means the streak is rotated clockwise in the image, i.e. its top end leans right ("/").
Paper 004 (PHP) only says "negative y-axis is 0°"; the sign is our choice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from derain.errors import ConfigError

__all__ = [
    "MIXTURE_NAMES",
    "PHP_DIRECTIONS",
    "PHP_SIZES",
    "PRESETS",
    "RainParams",
    "check_rain_names",
    "get_preset",
    "php_preset_name",
    "preset_summary",
    "resolve_params",
]


@dataclass(frozen=True)
class RainParams:
    """How one rain layer stack looks. Sizes are in pixels of the image the rain is drawn on.

    Attributes:
        density: Expected streaks per pixel in each depth layer (far layers get more, see ``layers``).
        length: Streak length (motion-blur distance) of the nearest layer.
        width: Gaussian-blur radius (sigma) of a drop in the nearest layer; PHP's "size".
        angle: Mean direction in degrees from vertical (see module docstring for the sign).
        angle_spread: Standard deviation in degrees of each layer's direction around ``angle``.
        intensity: Peak brightness of the nearest layer's streaks, in [0, 1].
        layers: Number of depth layers; layer k of n is scaled by 0.5 + 0.5 k/(n-1) in width and
            length, and its intensity by the same factor (paper 004: larger streaks are closer and
            brighter); its density is divided by that factor (far drops are more numerous).
        threshold: Level in (0, 1) that cuts the blurred drop into an opaque core (the
            "threshold" step of the Photoshop recipe); higher gives thinner streaks.
        occlusion: Normalised streak level above which a pixel is opaque rain (alpha ramps from
            this level to 1) in the occlusion-aware composition.
        texture_dir: Folder of rendered streak layers (white on black) to draw from instead of the
            procedural streaks, e.g. the Garg-Nayar layers; ``None`` renders procedurally.
        bend: Degrees each procedural streak's path turns over its length (an arc; 0 = straight):
            near drops swept by gusts leave curved trails.
    """

    density: float = 0.002
    length: float = 20.0
    width: float = 0.6
    angle: float = 0.0
    angle_spread: float = 4.0
    intensity: float = 0.6
    layers: int = 3
    threshold: float = 0.25
    occlusion: float = 0.75
    texture_dir: Path | None = None
    bend: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "density": 0.0 <= self.density <= 0.2,
            "length": 1.0 <= self.length <= 500.0,
            "width": 0.05 <= self.width <= 10.0,
            "angle": -90.0 <= self.angle <= 90.0,
            "angle_spread": 0.0 <= self.angle_spread <= 90.0,
            "intensity": 0.0 <= self.intensity <= 1.0,
            "layers": 1 <= self.layers <= 16,
            "threshold": 0.0 <= self.threshold < 1.0,
            "occlusion": 0.0 <= self.occlusion < 1.0,
            "bend": -120.0 <= self.bend <= 120.0,
        }
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(f"rain.{key}: value {getattr(self, key)!r} is out of range")


#: Paper 004's seven directions (degrees from vertical) and five blur radii.
PHP_DIRECTIONS: tuple[int, ...] = (-40, -30, -15, 0, 15, 30, 40)
PHP_SIZES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)


def php_preset_name(direction: int, size_index: int) -> str:
    """``php-d{direction:+d}-s{1..5}``, e.g. ``php-d+15-s3`` (radius 0.6) or ``php-d-40-s1``."""
    return f"php-d{direction:+d}-s{size_index}"


def _php_presets() -> dict[str, RainParams]:
    """The 35 PHP classes: one layer, fixed direction, size-dependent length and brightness.

    The paper gives directions and radii only; we make length (12..28 px) and intensity
    (0.35..0.75) grow linearly with the radius to follow its size-intensity observation.
    """
    presets = {}
    for k, radius in enumerate(PHP_SIZES, start=1):
        t = (k - 1) / (len(PHP_SIZES) - 1)
        for direction in PHP_DIRECTIONS:
            presets[php_preset_name(direction, k)] = RainParams(
                density=0.004,
                length=12.0 + 16.0 * t,
                width=radius,
                angle=float(direction),
                angle_spread=0.0,
                intensity=0.35 + 0.4 * t,
                layers=1,
            )
    return presets


#: Named presets. ``rain100l-like`` is calibrated on rain100l_subset11 (rain minus clean: mean
#: about 0.03, 15-25 % of pixels brighter by > 0.05, 99th percentile 0.2-0.4); ``rain100h-like``
#: mimics Rain100H's dense, bright streaks in several directions; ``broad`` draws the wide, blurry,
#: translucent bands of Photoshop-style synthetic rain (rain minus clean: mean about 0.1, ~70 % of
#: pixels brighter by > 0.05), the look of e.g. the SIRR validation pairs, which thin-streak presets
#: do not cover.
PRESETS: dict[str, RainParams] = {
    "light": RainParams(density=0.0012, length=16.0, width=0.5, angle_spread=3.0, intensity=0.45, layers=2),
    "medium": RainParams(density=0.0018, length=22.0, width=0.7, angle_spread=4.0, intensity=0.55, layers=3),
    "heavy": RainParams(density=0.0024, length=30.0, width=0.9, angle_spread=5.0, intensity=0.7, layers=4),
    "rain100l-like": RainParams(density=0.0035, length=26.0, width=0.6, angle_spread=2.0, intensity=0.28, layers=2),
    "rain100h-like": RainParams(density=0.003, length=34.0, width=1.0, angle_spread=12.0, intensity=0.75, layers=4),
    "broad": RainParams(
        density=0.0008, length=90.0, width=3.0, angle_spread=5.0, intensity=0.25, layers=3, threshold=0.02
    ),
    **_php_presets(),
}


#: Mixtures: names that draw a whole rain regime per image or sequence (see
#: :mod:`derain.data.synth.mixture`) instead of one RainParams.
MIXTURE_NAMES: tuple[str, ...] = (
    "real-mix",
    "real-mix-2",
    "real-mix-3",
    "real-mix-4",
    "real-mix-5",
    "real-mix-6",
    "real-mix-7",
    "long-rain",
    "near-rain",
    "wind-rain",
)


def preset_summary() -> str:
    """All preset and mixture names on one line, the 35 PHP classes folded into one pattern."""
    plain = [*MIXTURE_NAMES, *(name for name in PRESETS if not name.startswith("php-"))]
    dirs = ",".join(f"{d:+d}" for d in PHP_DIRECTIONS)
    return ", ".join(plain) + f", php-d{{{dirs}}}-s{{1..{len(PHP_SIZES)}}}"


def check_rain_names(key: str, names: tuple[str, ...]) -> None:
    """Raise a one-line ConfigError naming ``key`` for an empty list or an unknown preset or mixture."""
    if not names:
        raise ConfigError(f"{key}: needs at least one name")
    for name in names:
        if name not in PRESETS and name not in MIXTURE_NAMES:
            raise ConfigError(f"{key}: unknown name {name!r} (known: {preset_summary()})")


def get_preset(name: str) -> RainParams:
    """Look a preset up by name; an unknown name raises ConfigError listing the presets."""
    try:
        return PRESETS[name]
    except KeyError:
        if name in MIXTURE_NAMES:
            raise ConfigError(f"preset {name!r}: a mixture draws a regime per image, not one RainParams") from None
        raise ConfigError(f"preset {name!r}: unknown preset; choose from {preset_summary()}") from None


def resolve_params(params_or_preset: RainParams | str, **overrides: object) -> RainParams:
    """A RainParams from a preset name or params, with keyword fields replaced."""
    params = get_preset(params_or_preset) if isinstance(params_or_preset, str) else params_or_preset
    return dataclasses.replace(params, **overrides) if overrides else params
