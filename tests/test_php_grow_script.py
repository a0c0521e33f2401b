"""``scripts/php_grow.py``: the start of php legs 25-26, run as a user would (subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "php_grow.py"
TINY = {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 1, "branches": 2, "detail_gate": True}


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


def _trained_tiny(path: Path) -> torch.nn.Module:
    """A tiny php whose heads and gate are non-zero, so its output is not the input."""
    torch.manual_seed(0)
    model = build_model("php", TINY)
    for layer in (model.structure.head, model.detail.head, model.gate):
        torch.nn.init.normal_(layer.weight, std=0.3)
    save_weights(model, path, model_name="php", config=TINY)
    return model


def test_grow_keeps_the_source_output_exactly_and_the_new_blocks_learn(tmp_path: Path) -> None:
    old = _trained_tiny(tmp_path / "old.safetensors")
    done = _run(tmp_path / "old.safetensors", tmp_path / "grown.safetensors", "--blocks", 3, "--refine-blocks", 2)
    assert done.returncode == 0, done.stderr
    _, grown = build_from_file(tmp_path / "grown.safetensors")
    assert grown.config.layer_scale and (len(grown.structure.blocks), len(grown.detail.blocks)) == (3, 2)
    assert grown.structure.blocks[2].dilations == (3, 6)  # the third level of the hierarchy
    for name, tensor in old.state_dict().items():
        assert torch.equal(grown.state_dict()[name], tensor), name
    x = torch.rand(2, 3, 24, 32)
    with torch.no_grad():
        assert (old(x).background - x).abs().max() > 0.05
        assert torch.allclose(grown(x).background, old(x).background, atol=1e-6)
    # The new blocks learn: their scale gets a gradient at once, their branches once the scale moved.
    new = (grown.structure.blocks[2], grown.detail.blocks[1])
    optimizer = torch.optim.Adam(grown.parameters(), lr=1e-2)
    for _ in range(2):
        optimizer.zero_grad()
        (grown(x).background - 0.5).square().mean().backward()
        assert all(block.scale.grad.abs().sum() > 0 for block in new)
        optimizer.step()
    assert all(block.branches[0].weight.grad.abs().sum() > 0 for block in new)
    assert all(block.scale.abs().max() > 0 for block in new)


def test_grow_refuses_bad_requests_with_one_line(tmp_path: Path) -> None:
    _trained_tiny(tmp_path / "old.safetensors")
    out = tmp_path / "grown.safetensors"
    shrink = _run(tmp_path / "old.safetensors", out, "--blocks", 0, "--refine-blocks", 1)
    assert shrink.returncode == 1 and "cannot remove blocks" in shrink.stderr and not out.exists()
    out.write_bytes(b"mine")
    again = _run(tmp_path / "old.safetensors", out, "--blocks", 2, "--refine-blocks", 1)
    assert again.returncode == 1 and "already exists" in again.stderr and out.read_bytes() == b"mine"
    for done in (shrink, again):
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
