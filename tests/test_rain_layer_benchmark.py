"""``benchmarks/rain_layer.py``: the removed layer against the true rain layer, on crafted outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rain_layer.py"


@pytest.fixture()
def rain_layer(monkeypatch: pytest.MonkeyPatch):
    return load_script(SCRIPT, monkeypatch, "benchmark")


@pytest.fixture()
def scene() -> tuple[np.ndarray, np.ndarray]:
    """A textured clean image and its rain: bright vertical streaks on every fourth column."""
    clean = np.random.default_rng(0).uniform(0.2, 0.6, (32, 40, 3))
    rain = clean.copy()
    rain[:, ::4] += 0.3
    return clean, rain


def test_the_input_itself_removes_nothing(rain_layer, scene) -> None:
    clean, rain = scene
    s = rain_layer.layer_scores(rain, rain, clean)
    assert s["corr"] == 0.0 and s["on_rain"] == 0.0
    assert s["left"] == pytest.approx(1.0)
    assert s["shift_out"] == pytest.approx(s["shift_in"]) and s["shift_in"] > 10


def test_removing_half_of_every_streak_is_the_right_pattern_at_half_strength(rain_layer, scene) -> None:
    clean, rain = scene
    s = rain_layer.layer_scores(clean + 0.5 * (rain - clean), rain, clean)
    assert s["corr"] == pytest.approx(1.0)
    assert s["on_rain"] == pytest.approx(1.0)
    assert s["left"] == pytest.approx(0.5)


def test_damage_off_the_rain_lowers_correlation_and_on_rain_share(rain_layer, scene) -> None:
    clean, rain = scene
    output = clean.copy()
    output[:, 1::4] -= 0.2  # streaks gone, but rain-free columns darkened too
    s = rain_layer.layer_scores(output, rain, clean)
    assert s["corr"] < 0.9 and s["on_rain"] < 0.9
    assert s["left"] == pytest.approx(0.0, abs=1e-9)


def test_a_uniform_brightening_left_in_is_what_the_affine_oracle_recovers(rain_layer, scene) -> None:
    clean, _ = scene
    rain = clean + 0.1
    rain[:, ::4] += 0.3
    s = rain_layer.layer_scores(clean + 0.1, rain, clean)  # streaks removed, veil left
    assert s["shift_out"] == pytest.approx(0.1 * (65.481 + 128.553 + 24.966))
    assert s["affine_gain"] > 20
    damaged = rain_layer.layer_scores(clean + np.random.default_rng(1).normal(0, 0.05, clean.shape), rain, clean)
    assert damaged["affine_gain"] < 2  # noise is no tone shift: the fit only shrinks it a little


@pytest.fixture()
def folder(scene, tmp_path: Path) -> Path:
    """The scene as a paired folder (rain/ + clean/, one 8-bit PNG each)."""
    clean, rain = scene
    for sub, img in (("rain", rain), ("clean", clean)):
        (tmp_path / sub).mkdir()
        Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8)).save(tmp_path / sub / "001.png")
    return tmp_path


def test_score_set_reads_a_paired_folder(rain_layer, folder: Path) -> None:

    def identity(image: np.ndarray) -> np.ndarray:
        return image

    result = rain_layer.score_set({"identity": identity}, folder)
    assert set(result["identity"]) == set(rain_layer.KEYS)
    assert result["identity"]["left"] == pytest.approx(1.0)


def test_more_passes_score_the_model_run_again_on_its_own_output(rain_layer, folder: Path) -> None:

    def darken(image: np.ndarray) -> np.ndarray:
        return np.clip(image - 0.05, 0, 1)

    result = rain_layer.score_set({"d": darken}, folder, passes=3)
    assert list(result) == ["d", "d x2", "d x3"]
    step = 0.05 * (65.481 + 128.553 + 24.966)
    assert result["d x2"]["shift_out"] == pytest.approx(result["d"]["shift_out"] - step, abs=1e-3)
    assert result["d x3"]["shift_out"] == pytest.approx(result["d"]["shift_out"] - 2 * step, abs=1e-3)
