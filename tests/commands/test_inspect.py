"""Tests of ``derain inspect`` through the real CLI (a subprocess), on tiny weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli
from derain.checkpoint import save_weights
from derain.data.io import read_rgb, write_image
from derain.models import build_model

SMALL = {"channels": 8, "items": 3}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    rgb = np.random.default_rng(0).uniform(0, 1, (21, 30, 3)).astype(np.float32)
    return write_image(tmp_path / "in.png", rgb)


def _weights(tmp_path: Path, name: str, config: dict) -> Path:
    torch.manual_seed(0)
    return save_weights(build_model(name, config), tmp_path / f"{name}.safetensors", model_name=name, config=config)


def test_writes_one_heat_map_per_item_and_the_rain_layer(tmp_path: Path, image: Path) -> None:
    weights = _weights(tmp_path, "memory", SMALL)
    result = run_cli("inspect", "memory", image, "-o", tmp_path / "out", "--weights", weights)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["background.png", "item_00.png", "item_01.png", "item_02.png", "rain.png"]
    maps = [read_rgb(tmp_path / "out" / f"item_{m:02d}.png") for m in range(3)]
    assert all(m.shape == (21, 30, 3) for m in maps)
    assert not np.array_equal(maps[0], maps[1])  # items are read differently


def test_model_without_memory_is_a_one_line_error(tmp_path: Path, image: Path) -> None:
    weights = _weights(tmp_path, "memory", {**SMALL, "use_memory": False})
    result = run_cli("inspect", "memory", image, "-o", tmp_path / "out", "--weights", weights)
    assert result.returncode == 2
    assert result.stderr.startswith("derain: error: memory: model has no memory") and result.stderr.count("\n") == 1


def test_weights_of_another_model_are_refused(tmp_path: Path, image: Path) -> None:
    weights = _weights(tmp_path, "baseline", {})
    result = run_cli("inspect", "memory", image, "-o", tmp_path / "out", "--weights", weights)
    assert result.returncode == 2 and "holds weights of 'baseline'" in result.stderr
