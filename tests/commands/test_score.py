"""`derain score` through the real CLI on real files, plus the published identity rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, smooth_image
from derain.eval.metrics import PROTOCOL, score_images


def save(path: Path, img: np.ndarray) -> np.ndarray:
    """Write an 8-bit PNG and return exactly what it holds, as float32 in [0, 1]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.round(img * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels.astype(np.float32) / 255


@pytest.fixture
def dataset(tmp_path: Path, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """root/rain + root/clean with two pairs named the Rain100L way (rain-N / norain-N)."""
    images = {}
    for i in (1, 2):
        clean = smooth_image(32, 40, seed=i)
        rainy = np.clip(clean + rng.normal(0, 0.05 * i, clean.shape), 0, 1)
        images[f"rain-{i}.png"] = (
            save(tmp_path / "rain" / f"rain-{i}.png", rainy),
            save(tmp_path / "clean" / f"norain-{i}.png", clean),
        )
    return images


def test_json_report(tmp_path: Path, dataset: dict) -> None:
    result = run_cli("score", tmp_path / "rain", tmp_path / "clean", "--json", "--crop-border", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["protocol"] == PROTOCOL and report["count"] == 2 and report["crop_border"] == 3
    for row in report["images"]:
        rainy, clean = dataset[Path(row["output"]).name]
        expected = score_images(rainy, clean, crop_border=3)
        assert {k: row[k] for k in expected} == pytest.approx(expected, abs=1e-9)
    means = {k: np.mean([row[k] for row in report["images"]]) for k in report["mean"]}
    assert report["mean"] == pytest.approx(means)


def test_table_for_a_dataset_root(tmp_path: Path, dataset: dict) -> None:
    result = run_cli("score", tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["image", "PSNR-Y", "SSIM-Y", "PSNR-RGB"]
    assert [line.split()[0] for line in lines[1:3]] == ["rain-1.png", "rain-2.png"]
    rainy, clean = dataset["rain-1.png"]
    assert float(lines[1].split()[1]) == pytest.approx(score_images(rainy, clean)["psnr_y"], abs=0.005)
    assert lines[4].startswith("mean (2 images)")
    assert lines[5] == f"protocol: {PROTOCOL}; crop border 0px"


def test_identical_images_give_inf_in_table_and_null_in_json(tmp_path: Path) -> None:
    img = smooth_image(16, 16)
    save(tmp_path / "a" / "x.png", img)
    save(tmp_path / "b" / "x.png", img)
    table = run_cli("score", tmp_path / "a", tmp_path / "b")
    assert table.stdout.splitlines()[1].split()[1:3] == ["inf", "1.0000"]
    report = json.loads(run_cli("score", tmp_path / "a", tmp_path / "b", "--json").stdout)
    assert report["mean"]["psnr_y"] is None and report["mean"]["ssim_y"] == pytest.approx(1.0)


def test_size_mismatch_names_both_files(tmp_path: Path) -> None:
    save(tmp_path / "out" / "x.png", smooth_image(20, 30))
    save(tmp_path / "clean" / "x.png", smooth_image(21, 30))
    result = run_cli("score", tmp_path / "out", tmp_path / "clean")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"derain: error: {tmp_path / 'out' / 'x.png'}: size 30x20 does not match {tmp_path / 'clean' / 'x.png'} (30x21)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["out", "clean"], "cannot pair with"),
        (["out", "clean", "--crop-border", "8"], "smaller than the 11x11 SSIM window after --crop-border 8"),
        (["out"], "expected one rain sub-folder"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    save(tmp_path / "out" / "1.png", smooth_image(24, 24))
    save(tmp_path / "clean" / "1.png", smooth_image(24, 24, seed=5))
    if "--crop-border" not in args:
        save(tmp_path / "out" / "2.png", smooth_image(24, 24))
    result = run_cli("score", *[tmp_path / a if not a.startswith("-") and not a.isdigit() else a for a in args])
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_negative_crop_border_is_rejected(tmp_path: Path) -> None:
    result = run_cli("score", tmp_path, "--crop-border", "-1")
    assert result.returncode == 2 and "must be >= 0" in result.stderr


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "psnr_y", "ssim_y"),
    [("rain100l_subset11", 29.06, 0.8570), ("rain12", 30.14, 0.8554), ("sirr_val20", 22.29, 0.8726)],
)
def test_identity_rows_reproduce_the_field(shared_data: Path, name: str, psnr_y: float, ssim_y: float) -> None:
    root = shared_data / "bench" / "paired" / name
    result = run_cli("score", root / "rain", root / "clean", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["count"] == len(list((root / "rain").iterdir()))
    assert report["mean"]["psnr_y"] == pytest.approx(psnr_y, abs=0.01)
    assert report["mean"]["ssim_y"] == pytest.approx(ssim_y, abs=0.0005)
