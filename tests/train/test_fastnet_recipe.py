"""The default model's recipe, ``configs/fastnet.yaml``: valid, and it trains and exports through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from trainkit import write_pairs

from conftest import REPO, run_cli
from derain.checkpoint import load_weights_file
from derain.train.config import load_config
from derain.train.warmstart import initial_model

RECIPE = REPO / "configs" / "fastnet.yaml"
TINY = "{width: 4, enc_blocks: [1], dec_blocks: [1], middle_blocks: 1}"


def test_recipe_holds_out_kodak_and_exports_fastnet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    config = load_config(RECIPE, [f"val.path={write_pairs(tmp_path / 'val', 1)}"])
    assert (config.model.name, config.objective.name, config.data.kind) == ("fastnet", "supervised", "synthetic_pairs")
    assert "Kodak24" in config.data.options["exclude"]
    assert config.output.export is not None and config.output.export.name == "fastnet"
    assert config.train.ckpt_every <= 200  # a killed long run loses little


def test_recipe_trains_and_the_next_leg_starts_from_its_export(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    out = tmp_path / "fastnet.safetensors"
    overrides = {
        "model.config": TINY,
        "data.kind": "paired_folder",
        "data.options": f"{{root: {pairs}, crop: 16}}",
        "val.path": str(pairs),
        "val.every": 2,
        "train.steps": 2,
        "train.batch_size": 2,
        "train.num_workers": 0,
        "train.device": "cpu",
        "output.dir": str(tmp_path / "run"),
        "output.export": f"{{path: {out}, name: fastnet, manifest: {tmp_path / 'manifest.json'}}}",
    }
    args = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
    proc = run_cli("train", str(RECIPE), *args)
    assert proc.returncode == 0, proc.stderr
    name, _, state = load_weights_file(out)
    assert name == "fastnet"
    leg2 = load_config(RECIPE, [f"{k}={v}" for k, v in overrides.items()] + [f"model.init={out}"])
    model = initial_model(leg2.model)
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
