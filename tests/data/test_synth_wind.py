"""``wind-rain``: real-mix-6's regimes with each image's rain tilted 15-50 degrees further."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from derain.data.io import write_image
from derain.data.synth import MIXTURES, add_rain, draw_recipe, render_recipe
from derain.data.synth.degrade import Degradation


def test_wind_rain_is_real_mix_6_tilted_by_one_angle_per_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "streaks.png", np.full((20, 20, 3), 0.5, np.float32))
    assert MIXTURES["wind-rain"].regimes == MIXTURES["real-mix-6"].regimes and not MIXTURES["wind-rain"].textures
    calm = dataclasses.replace(MIXTURES["wind-rain"], wind=None)
    tilted = 0
    for seed in range(60):
        windy = draw_recipe(np.random.default_rng(seed), tmp_path, "wind-rain")
        with monkeypatch.context() as patch:
            patch.setitem(MIXTURES, "wind-rain", calm)
            still = draw_recipe(np.random.default_rng(seed), tmp_path, "wind-rain")
        assert windy.regime == still.regime != "texture" and len(windy.stacks) == len(still.stacks)
        assert dataclasses.replace(windy, stacks=still.stacks) == still  # nothing but the angles changes
        pairs = zip(windy.stacks, still.stacks, strict=True)
        tilts = [w.angle - s.angle for w, s in pairs if abs(w.angle) < 80.0]  # 80: the clip
        if tilts:
            tilted += 1
            assert max(tilts) - min(tilts) < 1e-9 and 15.0 <= abs(tilts[0]) <= 50.0  # one tilt per image
    assert tilted >= 55


def test_wind_rain_leans_where_real_mix_7_stays_near_vertical() -> None:
    rng = np.random.default_rng(0)
    for mixture, share in (("real-mix-7", (0.0, 0.1)), ("wind-rain", (0.55, 0.8))):
        angles = np.array([abs(s.angle) for _ in range(600) for s in draw_recipe(rng, None, mixture).stacks])
        assert share[0] <= float((angles > 25).mean()) <= share[1], mixture


def test_rendered_wind_rain_runs_along_its_tilt() -> None:
    """The streak layer correlates further along the drawn direction than straight down."""
    bg = np.full((128, 128, 3), 0.3, np.float32)
    rng = np.random.default_rng(3)
    recipe = draw_recipe(rng, None, "wind-rain")
    while recipe.regime not in ("medium", "heavy") or abs(recipe.stacks[0].angle) < 30:
        recipe = draw_recipe(rng, None, "wind-rain")
    recipe = dataclasses.replace(recipe, degradation=Degradation(), scene_haze=0.0, veil=0.0, drops=0, soften=0.0)
    layer = render_recipe(bg, recipe, rng).streaks
    layer = layer.reshape(layer.shape[0], layer.shape[1], -1).mean(axis=2)
    r = layer - layer.mean()
    corr = np.real(np.fft.ifft2(np.abs(np.fft.fft2(r)) ** 2))
    corr /= corr[0, 0]
    step = 8  # rows down; positive angle: the top leans right, so going down moves left
    shift = round(step * np.tan(np.radians(recipe.stacks[0].angle)))
    along, mirrored = corr[step, -shift], corr[step, shift]
    assert along > max(corr[step, 0], mirrored) + 0.1


def test_wind_rain_is_reproducible_by_seed() -> None:
    bg = np.random.default_rng(0).random((48, 64, 3)).astype(np.float32)
    a, b = (add_rain(bg, "wind-rain", np.random.default_rng(5)) for _ in range(2))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.streaks, b.streaks)
