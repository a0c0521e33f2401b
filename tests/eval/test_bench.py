"""derain.eval.bench + report: scores, identity row, grids, report.json schema, manifest update."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import smooth_image
from derain.api import load
from derain.checkpoint import read_manifest
from derain.data.io import read_rgb, write_image
from derain.errors import ConfigError, DatasetError
from derain.eval.bench import IDENTITY, BenchModel, dev_scores, run_bench, update_dev_scores
from derain.eval.metrics import PROTOCOL, score_images
from derain.eval.report import make_grid, write_report

#: report.json's required structure: key -> type (dicts nest). A missing key or wrong type fails.
NUM = (int, float)
METRICS = {"psnr_y": NUM, "ssim_y": NUM, "psnr_rgb": NUM}
SCHEMA = {
    "schema_version": int,
    "protocol": str,
    "flop_note": str,
    "environment": {
        "git_commit": (str, type(None)),
        "git_dirty": (bool, type(None)),
        "package_version": str,
        "torch_version": str,
        "python_version": str,
        "device": str,
        "cpu_model": str,
        "cpu_threads": int,
        "date": str,
    },
    "settings": {"tile": int, "overlap": int, "dtype": str, "max_images": (int, type(None)), "cost_size": int},
    "models": [
        {"label": str, "model": str, "weights": str, "bundled": bool, "params": int, "gflops": NUM, "cpu_ms": NUM}
    ],
    "sets": [
        {
            "name": str,
            "path": str,
            "count": int,
            "mean": {IDENTITY: METRICS},
            "images": [{"name": str, "scores": {IDENTITY: METRICS}}],
        }
    ],
    "real": [{"name": str, "count": int, "columns": [str], "grids": [{"image": str, "grid": str}]}],
}


def check_schema(value: object, schema: object, where: str = "report") -> None:
    """Assert ``value`` has the keys and types in ``schema`` (lists: every item; dicts: required keys)."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), where
        for key, sub in schema.items():
            assert key in value, f"{where}: missing {key!r}"
            check_schema(value[key], sub, f"{where}.{key}")
    elif isinstance(schema, list):
        assert isinstance(value, list) and value, f"{where}: expected a non-empty list"
        for i, item in enumerate(value):
            check_schema(item, schema[0], f"{where}[{i}]")
    else:
        assert isinstance(value, schema), f"{where}: {type(value).__name__} is not {schema}"


def make_paired_set(root: Path, n: int = 2) -> Path:
    """``root/{rain,clean}/i.png``: smooth clean images, rain = clean + bright streak-ish noise."""
    rng = np.random.default_rng(1)
    for i in range(n):
        clean = smooth_image(24, 32, seed=i)
        rain = np.clip(clean + (rng.random(clean.shape[:2]) > 0.9)[..., None] * 0.5, 0, 1)
        write_image(root / "clean" / f"{i}.png", clean)
        write_image(root / "rain" / f"{i}.png", rain)
    return root


@pytest.fixture
def tiny_model(tiny_weights: Path) -> BenchModel:
    return BenchModel("tiny", load(tiny_weights, "cpu"), tiny_weights, bundled=False)


def test_report_scores_match_metrics_and_schema(tmp_path: Path, tiny_model: BenchModel) -> None:
    root = make_paired_set(tmp_path / "setA", n=3)
    report = run_bench([tiny_model], [root], tmp_path / "out", real=[root / "rain"], cost_size=32, cost_runs=1)
    write_report(report, tmp_path / "out")
    loaded = json.loads((tmp_path / "out" / "report.json").read_text())
    check_schema(loaded, SCHEMA)
    check_schema(loaded["sets"][0]["mean"]["tiny"], METRICS)
    s = loaded["sets"][0]
    assert s["name"] == "setA" and s["count"] == 3 and len(s["images"]) == 3
    rain, clean = read_rgb(root / "rain" / "0.png"), read_rgb(root / "clean" / "0.png")
    assert s["images"][0]["scores"][IDENTITY] == pytest.approx(score_images(rain, clean))
    out = tiny_model.derainer(rain)
    assert s["images"][0]["scores"]["tiny"] == pytest.approx(score_images(out, clean, quantize=True))
    assert loaded["protocol"] == PROTOCOL


def test_markdown_and_html_state_protocol_count_identity(tmp_path: Path, tiny_model: BenchModel) -> None:
    root = make_paired_set(tmp_path / "setB", n=2)
    report = run_bench([tiny_model], [root], tmp_path / "out", cost_size=32, cost_runs=1)
    write_report(report, tmp_path / "out")
    for name in ("report.md", "index.html"):
        text = (tmp_path / "out" / name).read_text()
        assert "setB: 2 images" in text and IDENTITY in text and "tiny" in text, name
        assert "FlopCounterMode" in text
    assert PROTOCOL in (tmp_path / "out" / "report.md").read_text()


def test_real_grid_has_input_plus_model_columns(tmp_path: Path, tiny_model: BenchModel) -> None:
    real = tmp_path / "photos" / "rain"
    write_image(real / "a.png", smooth_image(20, 30))
    report = run_bench([tiny_model], [], tmp_path / "out", real=[real.parent], cost_size=16, cost_runs=1)
    entry = report["real"][0]
    assert entry["name"] == "photos" and entry["columns"] == ["input", "tiny"]
    grid = read_rgb(tmp_path / "out" / entry["grids"][0]["grid"])
    assert grid.shape[1] == 2 * 30 + 4  # two cells at full size (no upscaling) plus the gap


def test_max_images_and_duplicate_set_names(tmp_path: Path, tiny_model: BenchModel) -> None:
    a = make_paired_set(tmp_path / "x" / "same", n=3)
    report = run_bench([tiny_model], [a], tmp_path / "out", max_images=2, cost_size=16, cost_runs=1)
    assert report["sets"][0]["count"] == 2 and report["settings"]["max_images"] == 2
    b = make_paired_set(tmp_path / "y" / "same", n=1)
    with pytest.raises(DatasetError, match="same"):
        run_bench([tiny_model], [a, b], tmp_path / "out", cost_size=16, cost_runs=1)


def test_update_dev_scores_merges_bundled_only(tmp_path: Path, tiny_weights: Path) -> None:
    root = make_paired_set(tmp_path / "setC", n=2)
    derainer = load(tiny_weights, "cpu")
    models = [BenchModel("baseline", derainer, tiny_weights, bundled=True)]
    models.append(BenchModel("mine", derainer, tiny_weights, bundled=False))
    manifest = tmp_path / "manifest.json"
    old = {"psnr_y": 1.0, "ssim_y": 0.1, "psnr_rgb": 1.0, "count": 5}
    manifest.write_text(json.dumps({"baseline": {"file": "baseline.safetensors", "dev_scores": {"old": old}}}))
    report = run_bench(models, [root], tmp_path / "out", cost_size=16, cost_runs=1)
    assert update_dev_scores(report, models, manifest) == ["baseline"]
    entry = read_manifest(manifest)["baseline"]
    assert entry["file"] == "baseline.safetensors" and entry["dev_scores"]["old"] == old
    assert entry["dev_scores"]["setC"] == pytest.approx(dev_scores(report, "baseline")["setC"])
    assert entry["dev_scores"]["setC"]["count"] == 2 and "mine" not in read_manifest(manifest)
    partial = {**report, "settings": {**report["settings"], "max_images": 1}}
    with pytest.raises(ConfigError, match="max-images"):
        update_dev_scores(partial, models, manifest)


def test_make_grid_checks_inputs() -> None:
    img = smooth_image(40, 80)
    grid = make_grid([img, img, img], ["input", "a", "b"], cell=20)
    assert grid.shape[1] == 3 * 20 + 2 * 4 and grid.dtype == np.float32
    with pytest.raises(ValueError, match="label"):
        make_grid([img], ["a", "b"])
    with pytest.raises(ValueError, match="size"):
        make_grid([img, smooth_image(10, 10)], ["a", "b"])
