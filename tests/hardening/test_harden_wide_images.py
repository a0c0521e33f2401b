"""Issue #10, defect 4: float and wide-integer images are converted by one documented rule or refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from derain.errors import ImageValueError


def _gray(h: int = 24, w: int = 32) -> np.ndarray:
    return np.linspace(0.05, 0.95, h * w, dtype=np.float32).reshape(h, w)


def test_run_float32_tiff_keeps_its_brightness(tmp_path: Path, tiny_weights: Path) -> None:
    src = tmp_path / "f32.tif"
    Image.fromarray(_gray(), mode="F").save(src)
    before = src.read_bytes()
    done = run_cli("run", src, "-o", tmp_path / "out", "--weights", tiny_weights)
    assert done.returncode == 0, done.stderr
    out = np.asarray(Image.open(tmp_path / "out" / "f32.tif")).astype(np.float64) / 65535
    assert out.ndim == 2 and abs(out.mean() - 0.5) < 0.15  # was ~0.004 (near-black)
    assert src.read_bytes() == before


def test_run_int32_tiff_in_16_bit_range_is_read_and_out_of_range_is_named(tmp_path: Path, tiny_weights: Path) -> None:
    ok, wide = tmp_path / "ok.tif", tmp_path / "wide.tif"
    Image.fromarray((_gray() * 65535).astype(np.int32), mode="I").save(ok)
    Image.fromarray((_gray() * 100000).astype(np.int32), mode="I").save(wide)
    done = run_cli("run", ok, wide, "-o", tmp_path / "out", "--weights", tiny_weights)
    assert done.returncode == 1, done.stderr
    problems = [line for line in done.stderr.splitlines() if "skipped" in line]
    assert len(problems) == 1 and str(wide) in problems[0] and "outside the 16-bit range" in problems[0]
    out = np.asarray(Image.open(tmp_path / "out" / "ok.tif")).astype(np.float64) / 65535
    assert abs(out.mean() - 0.5) < 0.15 and not (tmp_path / "out" / "wide.tif").exists()


@pytest.fixture(scope="module")
def derainer(tiny_weights: Path):
    import derain

    return derain.load(tiny_weights, "cpu")


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_api_wide_gray_pil_comes_back_in_its_mode_and_brightness(derainer, mode: str) -> None:
    gray = _gray()
    data = gray if mode == "F" else (gray * 65535).astype(np.uint16 if mode == "I;16" else np.int32)
    image = Image.fromarray(data)
    assert image.mode == mode
    out = derainer(image)
    scale = 1.0 if mode == "F" else 65535.0
    assert out.mode == mode and out.size == image.size
    assert abs(np.asarray(out).astype(np.float64).mean() / scale - 0.5) < 0.15  # was ~1 (almost white)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.full((8, 8, 3), 200.0, np.float32), "values span 200..200"),
        (np.full((8, 8, 3), np.nan, np.float32), "NaN or infinite"),
        (np.array(np.full((8, 8, 3), np.inf), np.float64), "NaN or infinite"),
        (np.zeros((0, 0, 3), np.float32), "empty"),
    ],
)
def test_api_refuses_values_it_would_turn_into_garbage(derainer, array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageValueError, match=message):
        derainer(array)
    import torch

    with pytest.raises(ValueError, match=message):
        derainer(torch.from_numpy(array).permute(2, 0, 1))


def test_api_accepts_a_models_slight_overshoot(derainer) -> None:
    image = np.clip(np.random.default_rng(0).normal(0.5, 0.3, (8, 8, 3)), -0.005, 1.005).astype(np.float32)
    assert derainer(image).shape == (8, 8, 3)
