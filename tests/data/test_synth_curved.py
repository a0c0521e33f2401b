"""Curved streaks (``RainParams.bend``) and ``real-mix-7``'s ``curved`` regime."""

from __future__ import annotations

import math

import numpy as np
import pytest

from derain.data.synth import MIXTURES, RainParams, draw_recipe, streak_kernel
from derain.data.synth.streaks import _GRAIN_VARIANCE
from derain.errors import ConfigError


def test_bent_kernel_matches_the_brute_force_arc() -> None:
    """Every motion-blur sample sits on the path whose heading turns ``bend`` degrees over the length
    (clockwise on screen going down), found here by integrating the heading numerically."""
    length, width, angle, threshold, bend = 30.0, 1.2, 20.0, 0.1, 45.0
    sigma = math.sqrt(width**2 + _GRAIN_VARIANCE)
    half = math.ceil(length / 2 + 3 * sigma)
    grid = np.arange(-half, half + 1, dtype=np.float64)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    theta, turn = math.radians(angle), math.radians(bend) / length

    def point(s: float, substeps: int = 4000) -> tuple[float, float]:
        mids = (np.arange(substeps) + 0.5) * s / substeps
        heading = theta + turn * mids  # screen angle of the tangent, from "down", clockwise
        return float(np.sum(-np.sin(heading)) * s / substeps), float(np.sum(np.cos(heading)) * s / substeps)

    brute = np.zeros_like(xx)
    for s in np.linspace(-length / 2, length / 2, math.ceil(length * 2)):
        x, y = point(s)
        brute += np.clip(np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) - threshold, 0, None)
    np.testing.assert_allclose(streak_kernel(length, width, angle, threshold, bend), brute / brute.max(), atol=1e-4)


def test_bend_bows_an_upright_streak_along_its_arc() -> None:
    """An upright streak's brightest column follows the arc, row by row: its ends 7.7 px left of its middle."""
    length, bend = 60.0, 60.0
    k = math.radians(bend) / length
    kernel = streak_kernel(length, 1.0, 0.0, 0.1, bend)
    centre = kernel.shape[0] // 2
    rows = np.flatnonzero(kernel.max(axis=1) > 0.5)
    rows = rows[len(rows) // 10 : -len(rows) // 10]  # away from the rounded ends
    s = np.arcsin(np.clip(k * (rows - centre), -1, 1)) / k  # arc length down to each row
    expected = centre - (1 - np.cos(k * s)) / k  # the ends turn back to the left
    assert np.abs(kernel[rows].argmax(axis=1) - expected).max() <= 1.0
    assert kernel[rows].argmax(axis=1).min() <= centre - 5  # bowed, not straight
    np.testing.assert_allclose(streak_kernel(length, 1.0, 0.0, 0.1, -bend), kernel[:, ::-1], atol=1e-5)
    np.testing.assert_array_equal(streak_kernel(length, 1.0, 0.0, 0.1, 0.0), streak_kernel(length, 1.0, 0.0, 0.1))


def test_bend_out_of_range_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^rain\.bend: value 200\.0 is out of range$"):
        RainParams(bend=200.0)


def test_real_mix_7_adds_curved_near_strokes_of_both_signs_and_keeps_real_mix_6_otherwise() -> None:
    rng = np.random.default_rng(0)
    recipes = [draw_recipe(rng, None, "real-mix-7") for _ in range(2000)]
    weights = {name: w for name, (w, _) in MIXTURES["real-mix-7"].regimes.items()}
    assert set(weights) == set(MIXTURES["real-mix-6"].regimes) | {"curved"}
    curved = [r for r in recipes if r.regime == "curved"]
    assert abs(len(curved) / 2000 - weights["curved"] / sum(weights.values())) < 0.03
    bends = np.array([r.stacks[0].bend for r in curved])
    assert np.all((np.abs(bends) >= 15) & (np.abs(bends) <= 50)) and 0.3 < np.mean(bends > 0) < 0.7
    assert all(r.stacks[0].width >= 1.8 and r.stacks[0].intensity >= 0.5 for r in curved)  # thick and bright
    assert all(s.bend == 0.0 for r in recipes if r.regime != "curved" for s in r.stacks)
    assert all(s.bend == 0.0 for r in curved for s in r.stacks[1:])  # the light far layer stays straight
