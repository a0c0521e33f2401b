"""``benchmarks/rain_stats.py``: statistics of the true rain layer, on crafted rain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import cli_env, load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rain_stats.py"


@pytest.fixture()
def rain_stats(monkeypatch: pytest.MonkeyPatch):
    return load_script(SCRIPT, monkeypatch, "benchmark")


def _streaks(angle_deg: float, sigma: float, period: int = 12, size: int = 96) -> np.ndarray:
    """A layer of parallel Gaussian-profile lines, ``angle_deg`` from vertical, peak 1."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    across = xx * np.cos(np.radians(angle_deg)) - yy * np.sin(np.radians(angle_deg))
    distance = (across + period / 2) % period - period / 2
    return np.exp(-0.5 * (distance / sigma) ** 2)


def _pair(layer: np.ndarray, strength: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    clean = np.full((*layer.shape, 3), 0.3)
    return np.clip(clean + strength * layer[..., None], 0, 1), clean


def test_vertical_streaks_are_vertical_long_bright_and_as_wide_as_drawn(rain_stats) -> None:
    s = rain_stats.layer_stats(*_pair(_streaks(0.0, sigma=1.0)))
    assert s["negative"] == 0.0 and s["clipped"] == 0.0
    assert 0.1 < s["bright"] < 0.4  # the cores of the lines, not the gaps
    assert s["tilt80"] < 1.0
    assert s["width"] == pytest.approx(2.355, rel=0.15)  # FWHM of a Gaussian with sigma 1
    assert s["vcorr20"] > 0.99
    wide = rain_stats.layer_stats(*_pair(_streaks(0.0, sigma=2.0, period=24)))  # as sparse as the first
    assert wide["width"] == pytest.approx(2 * s["width"], rel=0.15)


def test_tilted_streaks_report_their_tilt_and_lose_vertical_correlation(rain_stats) -> None:
    s = rain_stats.layer_stats(*_pair(_streaks(20.0, sigma=1.0)))
    assert 15.0 < s["tilt80"] < 25.0
    assert s["vcorr20"] < 0.9


def test_dark_and_clipped_rain_are_counted(rain_stats) -> None:
    layer = _streaks(0.0, sigma=1.0)
    dark = rain_stats.layer_stats(*_pair(layer, strength=-0.25))
    assert dark["negative"] > 0.1 and dark["bright"] == 0.0
    white = rain_stats.layer_stats(*_pair(layer, strength=0.9))  # 0.3 + 0.9 clips at 1
    assert white["clipped"] > 0.05


def test_the_cli_reads_a_paired_folder_and_refuses_a_missing_one(rain_stats, tmp_path: Path) -> None:
    for sub in ("rain", "clean"):
        (tmp_path / "set" / sub).mkdir(parents=True)
    rain, clean = _pair(_streaks(0.0, sigma=1.0, size=64))
    for sub, image in (("rain", rain), ("clean", clean)):
        Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp_path / "set" / sub / "a.png")
    run = [sys.executable, str(SCRIPT), "--out", str(tmp_path / "out"), "--sets"]
    done = subprocess.run([*run, str(tmp_path / "set")], capture_output=True, text=True, env=cli_env(), check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "rain_stats.json").read_text())
    assert len(report["sets"]["set"]) == 1 and report["sets"]["set"][0]["tilt80"] < 1.0
    assert "| set | 1 |" in (tmp_path / "out" / "rain_stats.md").read_text()
    missing = subprocess.run([*run, str(tmp_path / "nope")], capture_output=True, text=True, env=cli_env(), check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == f"rain_stats: {tmp_path / 'nope'} not found"
