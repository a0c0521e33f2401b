"""``php_intensity``: every one of the 35 classes (direction and size), labels, the size ablation, mixing."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from derain.data.datasets import build_dataset
from derain.data.datasets.intensity import RAIN_FREE, class_preset, rain_classes
from derain.data.io import write_image
from derain.data.synth import PHP_DIRECTIONS, PHP_SIZES, add_rain
from derain.errors import ConfigError


def _streak_angle(layer: np.ndarray) -> float:
    """Dominant streak direction in degrees from vertical (top leaning right is positive), from the structure tensor."""
    gx = cv2.Scharr(layer, cv2.CV_64F, 1, 0)  # Scharr: rotation-invariant enough to tell 30 from 40 degrees
    gy = cv2.Scharr(layer, cv2.CV_64F, 0, 1)
    jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    # Gradients are perpendicular to streaks: the streak runs along the tensor's weakest eigenvector.
    theta_grad = 0.5 * math.atan2(2 * jxy, jxx - jyy)  # direction of strongest gradient, from the x axis
    along = theta_grad + math.pi / 2
    dx, dy = math.cos(along), math.sin(along)
    angle = math.degrees(math.atan2(-dx, dy))  # a streak pointing down along (-sin a, cos a) has angle a
    return (angle + 90) % 180 - 90


def test_every_class_has_its_direction_and_size():
    background = np.full((128, 128, 3), 0.2, np.float32)
    amounts = np.zeros((len(PHP_SIZES), len(PHP_DIRECTIONS)))
    assert rain_classes() == list(range(35))
    for rain_class in range(35):
        size, d = divmod(rain_class, len(PHP_DIRECTIONS))
        rng = np.random.default_rng(7)  # same grains for every class: only direction and size change
        layer = add_rain(background, class_preset(rain_class), rng).image[..., 0] - 0.2
        assert abs(_streak_angle(layer) - PHP_DIRECTIONS[d]) < 3.0, class_preset(rain_class)
        amounts[size, d] = layer.mean()
    # Larger streaks carry more rain (the paper's size-intensity link), at every direction.
    assert (np.diff(amounts, axis=0) > 0).all()


def test_class_names_and_range():
    assert class_preset(0) == "php-d-40-s1" and class_preset(34) == "php-d+40-s5" and class_preset(10) == "php-d+0-s2"
    with pytest.raises(ValueError):
        class_preset(35)


@pytest.fixture
def clean_dir(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "photos" / f"{i}.png", (0.3 + 0.2 * rng.random((48, 48, 3))).astype(np.float32))
    return tmp_path / "photos"


def test_items_carry_their_class_and_ablation_drops_sizes(clean_dir):
    data = build_dataset("php_intensity", clean_dir=str(clean_dir), crop=32, length=40, sizes=["small", "large"])
    assert data.classes == [*range(0, 7), *range(21, 35)]  # w/o. M: radii 0.4 and 0.6 are gone
    seen = set()
    for i in range(len(data)):
        item = data[i]
        assert item["rain"].shape == item["clean"].shape == (3, 32, 32)
        assert item["rain_class"].dtype == torch.int64
        seen.add(int(item["rain_class"]))
        assert (item["rain"] >= item["clean"] - 1e-6).all()  # additive rain only brightens
    assert seen <= set(data.classes) and len(seen) > 5
    again = build_dataset("php_intensity", clean_dir=str(clean_dir), crop=32, length=40, sizes=["small", "large"])
    assert torch.equal(again[3]["rain"], data[3]["rain"])  # seeded per item


def test_mixed_in_rain_is_class_minus_one(clean_dir):
    data = build_dataset("php_intensity", clean_dir=str(clean_dir), crop=32, length=30, mix_ratio=1.0, preset="heavy")
    assert {int(data[i]["rain_class"]) for i in range(len(data))} == {-1}
    with pytest.raises(ConfigError, match=r"php_intensity\.sizes"):
        build_dataset("php_intensity", clean_dir=str(clean_dir), sizes=["huge"])
    with pytest.raises(ConfigError, match="mix_ratio"):
        build_dataset("php_intensity", clean_dir=str(clean_dir), mix_ratio=2)


def test_rain_free_items_are_their_own_target_and_leave_older_recipes_unchanged(clean_dir):
    options = {"clean_dir": str(clean_dir), "crop": 32, "length": 60, "mix_ratio": 0.5, "preset": "heavy"}
    data = build_dataset("php_intensity", **options, rain_free=0.3)
    classes = [int(data[i]["rain_class"]) for i in range(len(data))]
    free = [i for i, c in enumerate(classes) if c == RAIN_FREE]
    assert 8 <= len(free) <= 30 and {-1} < set(classes) - {RAIN_FREE}  # about 30 %, the rest still rainy
    for i in free:
        assert torch.equal(data[i]["rain"], data[i]["clean"])
    rainy = next(i for i, c in enumerate(classes) if c != RAIN_FREE)
    assert (data[rainy]["rain"] - data[rainy]["clean"]).abs().max() > 0.05
    # rain_free 0 draws no random number (so older recipes render the same items); any other value does
    zero, tiny = build_dataset("php_intensity", **options), build_dataset("php_intensity", **options, rain_free=1e-9)
    assert not all(torch.equal(zero[i]["rain"], tiny[i]["rain"]) for i in range(5))
    with pytest.raises(ConfigError, match="rain_free"):
        build_dataset("php_intensity", **options, rain_free=1.5)
