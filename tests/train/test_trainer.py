"""End-to-end: ``derain train`` through the real CLI, outputs, export, manifest, guards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from trainkit import save_yaml, tiny_config, write_pairs

from conftest import run_cli
from derain.checkpoint import file_sha256, load_weights_file
from derain.errors import ConfigError
from derain.models import DerainModel
from derain.train.config import TrainSection, parse_config
from derain.train.objectives import OBJECTIVES, Objective
from derain.train.optim import lr_factor
from derain.train.runlog import read_log
from derain.train.trainer import TrainingDivergedError, train


@pytest.fixture(scope="module")
def pairs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("pairs"), 8)


def test_cli_trains_validates_checkpoints_and_exports(pairs_root: Path, tmp_path: Path) -> None:
    cfg = save_yaml(tiny_config(pairs_root, tmp_path / "run", keep_last=1), tmp_path / "c.yaml")
    proc = run_cli("train", str(cfg), "--set", "train.steps=7")
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    records = read_log(run / "log.jsonl")
    assert [r["step"] for r in records if "loss" in r] == list(range(1, 8))
    assert [r["step"] for r in records if "val" in r] == [3, 6, 7]
    assert all(set(r) >= {"loss", "l1", "ssim", "lr", "time"} for r in records if "loss" in r)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "step_000007.pt"]  # keep_last=1
    assert (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert parse_config(yaml.safe_load((run / "config.yaml").read_text())).train.steps == 7

    name, overrides, state = load_weights_file(tmp_path / "out.safetensors")
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert name == "baseline" and list(overrides["channels"]) == [4, 8]
    assert all(torch.equal(state[k], v) for k, v in best["model"].items())  # the best, not the last
    entry = json.loads((tmp_path / "manifest.json").read_text())["tiny"]
    assert entry["steps"] == 7 and entry["config"]["train"]["steps"] == 7
    assert entry["command"].startswith("derain train ") and "train.steps=7" in entry["command"]
    assert {"cpu", "torch", "threads"} <= set(entry["hardware"]) and entry["wall_time_s"] > 0
    assert 0 < entry["cpu_hours"] * 3600 < 10 * entry["wall_time_s"]
    assert entry["sha256"] == file_sha256(tmp_path / "out.safetensors") and entry["recipe"] == str(cfg)
    assert entry["data_licence"] is None  # the tiny recipe names none
    assert "dev_scores" not in entry


def test_existing_run_needs_resume(pairs_root: Path, tmp_path: Path) -> None:
    cfg = save_yaml(tiny_config(pairs_root, tmp_path / "run", steps=3), tmp_path / "c.yaml")
    assert run_cli("train", str(cfg)).returncode == 0
    proc = run_cli("train", str(cfg))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("derain: error: output.dir:")


def test_bad_override_is_one_line_exit_2(pairs_root: Path, tmp_path: Path) -> None:
    cfg = save_yaml(tiny_config(pairs_root, tmp_path / "run"), tmp_path / "c.yaml")
    proc = run_cli("train", str(cfg), "--set", "train.lrr=1")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "derain: error: train.lrr: unknown key; did you mean train.lr?"


class _NanAfter(Objective):
    """L1, but NaN from the third step on."""

    kind = "paired"

    def forward(self, model: DerainModel, batch: dict, progress: float) -> tuple[torch.Tensor, dict]:
        loss = (model(batch["rain"]).background - batch["clean"]).abs().mean()
        return (loss * float("nan") if progress >= 0.25 else loss), {}


def test_nan_guard_stops_and_keeps_last_good_checkpoint(
    pairs_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(OBJECTIVES._items, "nan_after", _NanAfter)
    raw = tiny_config(pairs_root, tmp_path / "run", steps=8, ckpt_every=1, keep_last=5)
    raw["objective"] = {"name": "nan_after"}
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 3.*step_000002\.pt"):
        train(parse_config(raw))
    ckpts = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    assert ckpts == ["step_000001.pt", "step_000002.pt"]
    assert not (tmp_path / "out.safetensors").exists()


def test_dataset_smaller_than_batch_is_config_error(pairs_root: Path, tmp_path: Path) -> None:
    raw = tiny_config(pairs_root, tmp_path / "run", batch_size=9)
    with pytest.raises(ConfigError, match=r"^train\.batch_size: 9 x 1 rank"):
        train(parse_config(raw))


@pytest.mark.parametrize(
    ("options", "step", "expected"),
    [
        ({"schedule": "constant", "warmup_steps": 4}, 1, 0.5),
        ({"schedule": "step", "milestones": (10, 20), "gamma": 0.5}, 15, 0.5),
        ({"schedule": "step", "milestones": (10, 20), "gamma": 0.5}, 20, 0.25),
        ({"schedule": "cosine", "steps": 100}, 50, 0.5),
        ({"schedule": "cosine", "steps": 100, "lr": 1.0, "min_lr": 0.2}, 100, 0.2),
    ],
)
def test_lr_schedules(options: dict, step: int, expected: float) -> None:
    assert lr_factor(step, TrainSection(**options)) == pytest.approx(expected)
