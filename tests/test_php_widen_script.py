"""``scripts/php_widen.py``: the start of php legs 46-47, run as a user would (subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
SCRIPT = SCRIPTS / "php_widen.py"
TINY = {"width": 8, "blocks": 2, "refine_width": 4, "refine_blocks": 1, "branches": 2, "detail_gate": True}


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


def _trained_tiny(path: Path, **extra: object) -> torch.nn.Module:
    """A tiny php with every weight random (heads and gate included), so each channel matters."""
    torch.manual_seed(0)
    config = {**TINY, **extra}
    model = build_model("php", config)
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            if name.endswith("weight"):
                tensor.normal_(std=0.3)
            elif name.endswith("scale"):
                tensor.uniform_(0.5, 1.5)
    save_weights(model, path, model_name="php", config=config)
    return model


def test_stream_map_keeps_branches_apart_and_the_pooled_channels_last() -> None:
    sys.path.insert(0, str(SCRIPTS))
    from php_widen import stream_map

    # 2 branches of 4 -> 2 of 6: each branch's last 3 indices stay last, where the pooled image closes the stream.
    assert stream_map(8, 12, 2, 3) == [0, 3, 4, 5, 6, 9, 10, 11]
    assert stream_map(4, 6, 2, 0) == [0, 1, 3, 4]


def test_widen_keeps_the_source_output_and_every_new_channel_learns(tmp_path: Path) -> None:
    for extra in ({}, {"gate_refine": 4, "layer_scale": True}, {"pyramid": "concat", "pooling": "max"}):
        old = _trained_tiny(tmp_path / "old.safetensors", **extra)
        out = tmp_path / "wide.safetensors"
        done = _run(tmp_path / "old.safetensors", out, "--width", 12, "--refine-width", 6)
        assert done.returncode == 0, done.stderr
        _, wide = build_from_file(out)
        assert (wide.config.width, wide.config.refine_width) == (12, 6)
        x = torch.rand(2, 3, 24, 32)
        with torch.no_grad():
            assert (old(x).background - x).abs().max() > 0.05
            assert torch.allclose(wide(x).background, old(x).background, atol=1e-5)
        # The new channels are live: one step makes the head read every one of them.
        new = {"structure": [1, 2, 7, 8], "detail": [2, 5]}  # the positions stream_map leaves free
        optimizer = torch.optim.Adam(wide.parameters(), lr=1e-2)
        (wide(x).background - 0.5).square().mean().backward()
        optimizer.step()
        for sub, free in new.items():
            head = getattr(wide, sub).head.weight[:, free]
            assert (head.abs().sum(dim=(0, 2, 3)) > 0).all(), sub
        out.unlink()


def test_widen_refuses_bad_requests_with_one_line(tmp_path: Path) -> None:
    _trained_tiny(tmp_path / "old.safetensors")
    out = tmp_path / "wide.safetensors"
    narrow = _run(tmp_path / "old.safetensors", out, "--width", 4, "--refine-width", 4)
    assert narrow.returncode == 1 and "cannot narrow" in narrow.stderr and not out.exists()
    odd = _run(tmp_path / "old.safetensors", out, "--width", 9, "--refine-width", 4)
    assert odd.returncode == 1 and "multiples of the branch count" in odd.stderr and not out.exists()
    out.write_bytes(b"mine")
    again = _run(tmp_path / "old.safetensors", out, "--width", 12, "--refine-width", 6)
    assert again.returncode == 1 and "already exists" in again.stderr and out.read_bytes() == b"mine"
    _trained_tiny(tmp_path / "hier.safetensors", pyramid="hierarchical")
    hier = _run(tmp_path / "hier.safetensors", tmp_path / "h.safetensors", "--width", 12, "--refine-width", 6)
    assert hier.returncode == 1 and "hierarchical" in hier.stderr and not (tmp_path / "h.safetensors").exists()
    for done in (narrow, odd, again, hier):
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
