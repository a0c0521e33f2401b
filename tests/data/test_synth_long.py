"""``long-rain`` and ``near-rain``: one look of rain alone (Rain100H's long streaks, SPA's near strokes)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from derain.data.io import write_image
from derain.data.synth import MIXTURES, add_rain, draw_recipe, render_recipe
from derain.data.synth.degrade import Degradation


def test_long_rain_draws_only_long_near_vertical_streaks_even_with_textures(tmp_path: Path) -> None:
    write_image(tmp_path / "streaks.png", np.full((20, 20, 3), 0.5, np.float32))
    rng = np.random.default_rng(0)
    recipes = [draw_recipe(rng, tmp_path, "long-rain") for _ in range(300)]
    assert {r.regime for r in recipes} == {"long"}
    stacks = [s for r in recipes for s in r.stacks]
    assert all(150 <= s.length <= 400 and s.texture_dir is None for s in stacks)
    assert max(abs(s.angle) for s in stacks) <= 0.6 * 45 + 12
    two = [r for r in recipes if len(r.stacks) == 2]
    assert 0.35 < len(two) / len(recipes) < 0.65
    assert all(3 <= abs(r.stacks[1].angle - r.stacks[0].angle) <= 12 for r in two)
    assert MIXTURES["real-mix-7"].textures and not MIXTURES["long-rain"].textures


def test_long_rain_streaks_run_far_down_and_stay_thin() -> None:
    """Rain minus clean correlates over tens of pixels down its streaks (20 rows down, at most 12 px
    sideways: tilts up to 31 degrees) and only a few pixels across a row,
    and it darkens a mid-grey frame about as much as the real Rain100H pairs (identity PSNR 11-20 dB)."""
    bg = np.full((256, 256, 3), 0.35, np.float32)
    down, across, psnrs = [], [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        recipe = dataclasses.replace(draw_recipe(rng, None, "long-rain"), degradation=Degradation(), scene_haze=0.0)
        rain = (render_recipe(bg, recipe, rng).image - bg).mean(axis=2)
        psnrs.append(10 * math.log10(1 / float((rain**2).mean())))
        r = rain - rain.mean()
        spectrum = np.fft.fft2(r)
        corr = np.real(np.fft.ifft2(spectrum * np.conj(spectrum)))
        corr /= corr[0, 0]
        down.append(np.roll(corr[20], 12)[:25].max())
        across.append(corr[0, 6])
    assert min(down) > 0.45 > 0.3 > max(across)  # rain100h-like: 0.16-0.20 down
    assert 11.0 < float(np.mean(psnrs)) < 20.0


def test_near_rain_draws_real_mix_7s_near_strokes_straight_and_curved_half_each(tmp_path: Path) -> None:
    write_image(tmp_path / "streaks.png", np.full((20, 20, 3), 0.5, np.float32))
    rng = np.random.default_rng(1)
    regimes = [draw_recipe(rng, tmp_path, "near-rain").regime for _ in range(400)]
    assert set(regimes) == {"near", "curved"} and 0.4 < regimes.count("curved") / len(regimes) < 0.6
    near, curved = (MIXTURES["real-mix-7"].regimes[name][1] for name in ("near", "curved"))
    assert MIXTURES["near-rain"].regimes == {"near": (0.1, near), "curved": (0.1, curved)}


def test_long_rain_is_reproducible_by_seed() -> None:
    bg = np.random.default_rng(1).random((48, 64, 3)).astype(np.float32)
    a = add_rain(bg, "long-rain", np.random.default_rng(5))
    b = add_rain(bg, "long-rain", np.random.default_rng(5))
    c = add_rain(bg, "long-rain", np.random.default_rng(6))
    assert a.image.tobytes() == b.image.tobytes() and a.regime == "long"
    assert a.image.tobytes() != c.image.tobytes()
