"""``benchmarks/php_detail.py``: the rain-free error splits into the gate term and ``r_2`` (tiny php, real files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import load_script
from derain.models import build_model

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "php_detail.py"
TINY = {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 0, "branches": 2, "detail_gate": True}


@pytest.fixture()
def php_detail(monkeypatch: pytest.MonkeyPatch):
    return load_script(SCRIPT, monkeypatch, "benchmark")


def _pairs(tmp_path: Path) -> list[tuple[Path, Path]]:
    """Two pairs whose rain is a bright band over the top quarter; the rest is rain-free."""
    pairs = []
    for i in range(2):
        clean = np.random.default_rng(i).integers(40, 200, (24, 32, 3), dtype=np.uint8)
        rain = clean.copy()
        rain[:6] = 250
        pairs.append((tmp_path / f"rain{i}.png", tmp_path / f"clean{i}.png"))
        Image.fromarray(rain).save(pairs[-1][0])
        Image.fromarray(clean).save(pairs[-1][1])
    return pairs


def _set_heads(model: torch.nn.Module, gate: float, refine: float, coarse: float = 0.0) -> None:
    """Constant gate ``g``, residual ``r_2`` and ``X^c - Y`` (RGB) everywhere."""
    with torch.no_grad():
        for conv, value in ((model.gate, gate), (model.detail.head, refine), (model.structure.head, coarse)):
            conv.weight.zero_()
            conv.bias.fill_(value)


def test_an_open_gate_and_no_residual_leave_rain_free_pixels_untouched(php_detail, tmp_path: Path) -> None:
    model = build_model("php", TINY)
    _set_heads(model, gate=1.0, refine=0.0)
    s = php_detail.decompose_rain_free_error(model, _pairs(tmp_path))
    assert s["free_psnr_y"] > 60 and s["gate_term_rms"] < 1e-4 and abs(s["refine_mean"]) < 1e-4
    assert s["gate_free"] == pytest.approx(1.0) and s["gate_rain"] == pytest.approx(1.0)


def test_the_split_names_a_mostly_closed_gate_and_a_darkening_residual(php_detail, tmp_path: Path) -> None:
    model = build_model("php", TINY)
    _set_heads(model, gate=0.25, refine=-0.01, coarse=-0.02)
    s = php_detail.decompose_rain_free_error(model, _pairs(tmp_path))
    assert s["refine_mean"] == pytest.approx(-0.01 * 219.0, abs=1e-3)  # Y weights sum to 219
    assert s["refine_rms"] == pytest.approx(0.01 * 219.0, abs=1e-3)
    assert s["gate_term_rms"] == pytest.approx(0.75 * 0.02 * 219.0, abs=1e-3)
    assert s["gate_free"] == pytest.approx(0.25)
    # X - Y = 0.75 * (-0.02) - 0.01 = -0.025 in RGB, -5.475 grey levels of Y, on every rain-free pixel
    assert s["free_psnr_y"] == pytest.approx(20 * np.log10(255.0 / (0.025 * 219.0)), abs=0.01)
