"""``derain bench`` through the real CLI: report files, grids, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, smooth_image
from derain.data.io import read_rgb, write_image


def test_bench_writes_report_and_grids(tmp_path: Path, tiny_weights: Path) -> None:
    for i in range(2):
        clean = smooth_image(24, 40, seed=i)
        write_image(tmp_path / "set1" / "clean" / f"{i}.png", clean)
        write_image(tmp_path / "set1" / "rain" / f"{i}.png", np.clip(clean + 0.2, 0, 1))
    write_image(tmp_path / "real" / "photo.jpg", smooth_image(30, 50, seed=3))
    out = tmp_path / "report"
    done = run_cli(
        "bench", "--weights", f"mine={tiny_weights}", "--sets", tmp_path / "set1", "--real", tmp_path / "real",
        "--out", out, "--device", "cpu", "--cost-size", "32", "--cost-runs", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert [m["label"] for m in report["models"]] == ["mine"] and report["models"][0]["bundled"] is False
    assert report["sets"][0]["count"] == 2 and set(report["sets"][0]["mean"]) == {"identity", "mine"}
    grid = read_rgb(out / report["real"][0]["grids"][0]["grid"])
    assert grid.shape[1] == 2 * 50 + 4
    assert "set1: 2 images" in (out / "report.md").read_text()
    assert (out / "index.html").is_file()
    assert report["settings"]["self_ensemble"] is False and "self-ensemble" not in (out / "report.md").read_text()


def test_bench_self_ensemble_scores_the_mirrored_average(tmp_path: Path, tiny_weights: Path) -> None:
    clean = smooth_image(24, 40, seed=0)
    write_image(tmp_path / "set1" / "clean" / "0.png", clean)
    write_image(tmp_path / "set1" / "rain" / "0.png", np.clip(clean + 0.2, 0, 1))
    scores = {}
    for flag in ([], ["--self-ensemble"]):
        out = tmp_path / f"report{len(flag)}"
        done = run_cli(
            "bench", "--weights", f"mine={tiny_weights}", "--sets", tmp_path / "set1", "--out", out,
            "--device", "cpu", "--cost-size", "32", "--cost-runs", "1", *flag,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["settings"]["self_ensemble"] is bool(flag)
        assert ("self-ensemble" in (out / "report.md").read_text()) is bool(flag)
        scores[bool(flag)] = report["sets"][0]["mean"]["mine"]["psnr_y"]
    assert scores[True] != scores[False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "r"], "nothing to do"),
        (["--weights", "oops", "--sets", "s", "--out", "r"], "LABEL=FILE"),
        (["--models", "baseline", "--sets", "s", "--out", "r", "--update-manifest", "--max-images", "1"], "drop --max"),
        (["--weights", "x=missing.safetensors", "--sets", "s", "--out", "r"], "missing.safetensors"),
        (["--models", "php", "--sets", "s", "--out", "r", "--update-manifest", "--self-ensemble"], "one plain pass"),
        (["--models", "j4r", "--sets", "s", "--out", "r", "--self-ensemble"], "self-ensemble: video models"),
    ],
)
def test_bench_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli("bench", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("derain: error:") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.shared
def test_bench_on_shared_dev_set(shared_data: Path, tmp_path: Path, tiny_weights: Path) -> None:
    done = run_cli(
        "bench", "--weights", f"mine={tiny_weights}", "--sets", shared_data / "bench" / "paired" / "rain12",
        "--out", tmp_path / "r", "--device", "cpu", "--max-images", "2", "--cost-size", "64", "--cost-runs", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    s = json.loads((tmp_path / "r" / "report.json").read_text())["sets"][0]
    assert s["name"] == "rain12" and s["count"] == 2
    assert 15 < s["mean"]["identity"]["psnr_y"] < 45  # rainy inputs vs clean: a plausible identity row
