"""``derain models`` and ``derain demo`` through the real CLI."""

from __future__ import annotations

from conftest import run_cli
from derain.api import DEFAULT_MODEL, bundled_weights
from derain.data.io import read_image
from derain.models import MODELS

PANEL = 500  # the bundled photo is 500x500


def test_models_lists_every_registered_model():
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "params", "weights"]
    assert sorted(line.split()[0] for line in lines[1:]) == MODELS.names()
    baseline = next(line for line in lines if line.startswith("baseline "))
    assert " k " in baseline or " M " in baseline  # a parameter count


def test_demo_writes_a_side_by_side_png(tmp_path):
    result = run_cli("demo", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    panels = 3 if bundled_weights(DEFAULT_MODEL) else 2
    assert read_image(tmp_path / "demo.png").rgb.shape[1] == panels * PANEL
    assert "rainy input: PSNR-Y" in result.stdout
    assert ("no bundled weights" in result.stdout) == (panels == 2)


def test_demo_with_user_weights_shows_the_derained_panel(tmp_path, tiny_weights):
    result = run_cli("demo", "-o", tmp_path / "out", "--weights", tiny_weights)
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "out" / "demo.png").rgb.shape[1] == 3 * PANEL
    assert "derained (baseline): PSNR-Y" in result.stdout
