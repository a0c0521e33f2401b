"""``scripts/average_weights.py``: a uniform model soup of weights files and trainer checkpoints (subprocess)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "average_weights.py"
TINY = {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 1, "branches": 2, "detail_gate": True}


def _run(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


def _php(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("php", TINY)


def test_mean_of_a_weights_file_and_a_trainer_checkpoint(tmp_path: Path) -> None:
    a, b = _php(0), _php(1)
    save_weights(a, tmp_path / "a.safetensors", model_name="php", config=TINY)
    checkpoint = {"step": 7, "model": b.state_dict(), "config": {"model": {"name": "php", "config": dict(TINY)}}}
    torch.save(checkpoint, tmp_path / "step_000007.pt")
    done = _run(tmp_path / "soup.safetensors", tmp_path / "a.safetensors", tmp_path / "step_000007.pt")
    assert done.returncode == 0, done.stderr
    _, soup = build_from_file(tmp_path / "soup.safetensors")
    assert soup.config.detail_gate  # the inputs' architecture
    for key, tensor in soup.state_dict().items():
        assert torch.allclose(tensor, (a.state_dict()[key] + b.state_dict()[key]) / 2, atol=1e-7), key
    assert any(not torch.equal(t, a.state_dict()[k]) for k, t in soup.state_dict().items())  # not a copy of a


def test_a_file_that_spells_out_defaults_soups_with_one_that_leaves_them_out(tmp_path: Path) -> None:
    """php_grow writes every config field, a trainer export only the overrides: the same architecture."""
    full = dataclasses.asdict(build_model("php", TINY).config)
    save_weights(_php(0), tmp_path / "full.safetensors", model_name="php", config=full)
    save_weights(_php(1), tmp_path / "short.safetensors", model_name="php", config=TINY)
    done = _run(tmp_path / "soup.safetensors", tmp_path / "full.safetensors", tmp_path / "short.safetensors")
    assert done.returncode == 0, done.stderr


def test_refuses_mixed_architectures_one_input_and_an_existing_output(tmp_path: Path) -> None:
    save_weights(_php(0), tmp_path / "a.safetensors", model_name="php", config=TINY)
    other = {**TINY, "detail_gate": False}
    save_weights(build_model("php", other), tmp_path / "b.safetensors", model_name="php", config=other)
    mixed = _run(tmp_path / "out.safetensors", tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert mixed.returncode == 1 and "b.safetensors" in mixed.stderr and "Traceback" not in mixed.stderr
    (tmp_path / "out.safetensors").write_bytes(b"mine")
    again = _run(tmp_path / "out.safetensors", tmp_path / "a.safetensors", tmp_path / "a.safetensors")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert (tmp_path / "out.safetensors").read_bytes() == b"mine"
    missing = _run(tmp_path / "new.safetensors", tmp_path / "a.safetensors", tmp_path / "nope.pt")
    assert missing.returncode == 1 and "nope.pt" in missing.stderr and not (tmp_path / "new.safetensors").exists()


def test_best_checkpoint_reads_its_runs_config(tmp_path: Path) -> None:
    """``best.pt`` holds only the weights; the architecture comes from the run's ``config.yaml``."""
    a, b = _php(0), _php(1)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "config.yaml").write_text(
        "model:\n  name: php\n  config: " + repr(TINY).replace("True", "true")
    )
    torch.save({"model": a.state_dict(), "step": 3}, tmp_path / "run" / "checkpoints" / "best.pt")
    save_weights(b, tmp_path / "b.safetensors", model_name="php", config=TINY)
    done = _run(tmp_path / "soup.safetensors", tmp_path / "run" / "checkpoints" / "best.pt", tmp_path / "b.safetensors")
    assert done.returncode == 0, done.stderr
    alone = _run(tmp_path / "best.safetensors", tmp_path / "run" / "checkpoints" / "best.pt")  # a plain export
    assert alone.returncode == 0, alone.stderr
    _, exported = build_from_file(tmp_path / "best.safetensors")
    assert all(torch.equal(t, a.state_dict()[k]) for k, t in exported.state_dict().items())
    (tmp_path / "run" / "config.yaml").unlink()
    orphan = _run(
        tmp_path / "soup2.safetensors", tmp_path / "run" / "checkpoints" / "best.pt", tmp_path / "b.safetensors"
    )
    assert orphan.returncode == 1 and "best.pt" in orphan.stderr and "Traceback" not in orphan.stderr
