"""``php_intensity``: paper 004's intensity-aware dataset, rendered on the fly, each pair with its rain class.

Section III-D of Xu et al.: rain streaks of 7 directions (0, +-15, +-30, +-40 degrees from vertical)
and 5 sizes (Gaussian blur radius 0.2 to 1.0 in 0.2 steps), noise -> Gaussian blur -> motion blur,
added to the clean image (eq. 1): 35 classes, one per (direction, size). The rain of each class is
the ``php-d<dir>-s<k>`` preset of :mod:`derain.data.synth.params`, composed additively.

Items are paired items plus ``rain_class``: the class index ``(size - 1) * 7 + direction index``
(directions in :data:`~derain.data.synth.PHP_DIRECTIONS` order), or -1 for an item drawn from the
mixed-in rain (``mix_ratio`` of the items use ``preset``/``composition`` instead, e.g. derain's
realistic rain, so the model also sees rain unlike the paper's Photoshop streaks), or
:data:`RAIN_FREE` for a rain-free item (``rain_free`` of the items: input = target, derain's addition,
not the paper's; it shows the network fine bright texture that it must leave alone).

The paper's Table IV size ablation ("w/o. S / M / L") is the ``sizes`` option: small is radius 0.2,
medium 0.4 and 0.6, large 0.8 and 1.0 (the paper's grouping).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from derain.data.arrays import to_chw
from derain.data.datasets.base import DATASETS
from derain.data.datasets.options import SyntheticOptions
from derain.data.datasets.synthetic import _SyntheticDataset
from derain.data.synth import PHP_DIRECTIONS, PHP_SIZES, add_rain, php_preset_name
from derain.schema import UnitFloat, require

__all__ = ["RAIN_FREE", "SIZE_GROUPS", "IntensityOptions", "IntensityPairsDataset", "class_preset", "rain_classes"]

#: The paper's size groups (1-based size indices into PHP_SIZES = radii 0.2 ... 1.0).
SIZE_GROUPS: dict[str, tuple[int, ...]] = {"small": (1,), "medium": (2, 3), "large": (4, 5)}

#: ``rain_class`` of a rain-free item (its input is its target).
RAIN_FREE = -2


def rain_classes(sizes: tuple[str, ...] = tuple(SIZE_GROUPS)) -> list[int]:
    """Class indices of the given size groups, ascending (all 35 by default)."""
    kept = sorted(k for group in sizes for k in SIZE_GROUPS[group])
    return [(k - 1) * len(PHP_DIRECTIONS) + d for k in kept for d in range(len(PHP_DIRECTIONS))]


def class_preset(rain_class: int) -> str:
    """Preset name of a class index, e.g. 0 -> ``php-d-40-s1``, 34 -> ``php-d+40-s5``."""
    if not 0 <= rain_class < len(PHP_DIRECTIONS) * len(PHP_SIZES):
        raise ValueError(f"rain class must be in [0, {len(PHP_DIRECTIONS) * len(PHP_SIZES)}), got {rain_class}")
    size, direction = divmod(rain_class, len(PHP_DIRECTIONS))
    return php_preset_name(PHP_DIRECTIONS[direction], size + 1)


@dataclass(frozen=True, kw_only=True)
class IntensityOptions(SyntheticOptions):
    """Options of ``php_intensity``.

    Attributes:
        sizes: size groups kept (``small``, ``medium``, ``large``); leave one out for Table IV's ablation.
        mix_ratio: share of items rendered with ``preset``/``composition`` (class -1) instead of a PHP class.
        rain_free: share of items left rain-free (class :data:`RAIN_FREE`), drawn before the rest; at 0
            no random number is drawn for it, so older recipes render exactly the same items.
    """

    sizes: tuple[str, ...] = tuple(SIZE_GROUPS)
    mix_ratio: UnitFloat = 0.0
    rain_free: UnitFloat = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.sizes) > 0, "sizes", "needs at least one size group")
        for group in self.sizes:
            require(group in SIZE_GROUPS, "sizes", f"unknown size group {group!r} (known: small, medium, large)")


@DATASETS.register("php_intensity")
class IntensityPairsDataset(_SyntheticDataset):
    """Rainy/clean pairs of a uniformly drawn intensity class (or mixed-in rain), with ``rain_class``."""

    Options = IntensityOptions
    item_kind = "paired"

    def __init__(self, options: IntensityOptions) -> None:
        super().__init__(options)
        self.classes = rain_classes(options.sizes)

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        background, path = self._background(rng)
        if self.options.rain_free and rng.random() < self.options.rain_free:
            return self._pair(background, background, path.name, RAIN_FREE)
        if rng.random() < self.options.mix_ratio:
            style = self._style(rng)
            rained, rain_class = add_rain(background, style["preset"], rng, composition=style["composition"]), -1
        else:
            rain_class = self.classes[int(rng.integers(len(self.classes)))]
            rained = add_rain(background, class_preset(rain_class), rng, composition="additive")
        return self._pair(rained.image, rained.background, path.name, rain_class)

    @staticmethod
    def _pair(rain: np.ndarray, clean: np.ndarray, name: str, rain_class: int) -> dict[str, torch.Tensor | str]:
        return {"rain": to_chw(rain), "clean": to_chw(clean), "name": name, "rain_class": torch.tensor(rain_class)}
