"""``scripts/php_open_gate.py``: the start of php leg 14, run as a user would (subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "php_open_gate.py"
TINY = {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 1, "branches": 2}


def _run(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


def test_open_gate_keeps_the_first_subnetwork_and_starts_as_the_identity(tmp_path: Path) -> None:
    torch.manual_seed(0)
    old = build_model("php", TINY)
    for head in (old.structure.head, old.detail.head):
        torch.nn.init.normal_(head.weight, std=0.3)
    save_weights(old, tmp_path / "old.safetensors", model_name="php", config=TINY)
    done = _run(tmp_path / "old.safetensors", tmp_path / "gated.safetensors")
    assert done.returncode == 0, done.stderr
    _, gated = build_from_file(tmp_path / "gated.safetensors")
    assert gated.config.detail_gate and gated.config.refine_blocks == 1  # the file's architecture, gated
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        assert (old(x).background - x).abs().max() > 0.05
        assert torch.allclose(gated(x).background, x, atol=1e-6)
        assert torch.allclose(gated(x).coarse, old(x).coarse, atol=1e-6)
    again = _run(tmp_path / "old.safetensors", tmp_path / "gated.safetensors")
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_open_gate_refuses_other_models(tmp_path: Path) -> None:
    save_weights(
        build_model("baseline", {"channels": [4, 8]}),
        tmp_path / "b.safetensors",
        model_name="baseline",
        config={"channels": [4, 8]},
    )
    done = _run(tmp_path / "b.safetensors", tmp_path / "out.safetensors")
    assert done.returncode == 1 and "not php" in done.stderr and not (tmp_path / "out.safetensors").exists()
