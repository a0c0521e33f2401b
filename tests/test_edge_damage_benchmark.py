"""``benchmarks/edge_damage.py``: error on vertical against horizontal edges, with crafted outputs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "edge_damage.py"


@pytest.fixture()
def edge_damage(monkeypatch: pytest.MonkeyPatch):
    return load_script(SCRIPT, monkeypatch, "benchmark")


@pytest.fixture()
def grid() -> np.ndarray:
    """Bright vertical lines on the left half, as many horizontal ones on the right, on faint texture."""
    image = np.random.default_rng(0).uniform(0.3, 0.35, (96, 96, 3))
    image[:, 8:40:12] = 0.9
    image[8:96:12, 56:88] = 0.9
    return image


def test_wiping_vertical_lines_shows_on_vertical_edges_only(edge_damage, grid) -> None:
    wiped = cv2.blur(grid, (7, 1))  # a horizontal blur: smears vertical lines, keeps horizontal ones
    r = edge_damage.pooled_rmse([edge_damage.edge_errors(wiped, grid)])
    assert r["vertical"] > 5 * r["horizontal"] and r["ratio"] > 5
    flipped = edge_damage.pooled_rmse([edge_damage.edge_errors(cv2.blur(grid, (1, 7)), grid)])
    assert flipped["ratio"] < 0.2


def test_an_orientation_blind_error_has_a_ratio_near_one(edge_damage, grid) -> None:
    r = edge_damage.pooled_rmse([edge_damage.edge_errors(cv2.GaussianBlur(grid, (0, 0), 1.5), grid)])
    assert 0.8 < r["ratio"] < 1.25
    perfect = edge_damage.pooled_rmse([edge_damage.edge_errors(grid, grid)])
    assert perfect["vertical"] == perfect["horizontal"] == 0.0
