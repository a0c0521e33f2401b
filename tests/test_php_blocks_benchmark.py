"""``benchmarks/php_blocks.py``: a dead block reads as dead, a live one as live (tiny php, real images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import load_script
from derain.models import build_model

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "php_blocks.py"


@pytest.fixture()
def php_blocks(monkeypatch: pytest.MonkeyPatch):
    return load_script(SCRIPT, monkeypatch, "benchmark")


def test_block_use_tells_a_dead_block_from_a_live_one(php_blocks, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("php", {"width": 8, "blocks": 2, "refine_width": 4, "refine_blocks": 1, "branches": 2})
    with torch.no_grad():
        for branch in model.structure.blocks[1].branches:  # every ReLU of this block stays at 0
            branch.bias.fill_(-100.0)
    images = []
    for i in range(2):
        images.append(tmp_path / f"{i}.png")
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(images[-1])
    use = php_blocks.block_use(model, images)
    assert set(use) == {"structure.blocks.0", "structure.blocks.1", "detail.blocks.0"}
    assert use["structure.blocks.1"] == (0.0, 0.0)
    ratio, live = use["structure.blocks.0"]
    assert ratio > 0.01 and 0.0 < live <= 1.0
    assert not model.structure.blocks[0]._forward_hooks  # the hooks are removed afterwards
