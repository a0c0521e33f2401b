"""Grow trained php weights by more PHP blocks that start at exactly zero and still learn (php legs 25-26).

The grown php has ``layer_scale`` on (:class:`derain.layers.pyramid.PHPBlock`): every block's residual
is multiplied by a learnable per-channel scale. The source's blocks get scale 1 (they compute what
they did), the new blocks scale 0 with their usual random branches, so the grown model's output equals
the source's and the scale's gradient (the new residual against the loss's gradient) is not zero.
Existing blocks keep their dilations (block ``b`` uses ``(b + 1) * (1..k)`` whatever the depth)::

    python scripts/php_grow.py src/derain/weights/php.safetensors runs/php_grown.safetensors \
        --blocks 4 --refine-blocks 2

An earlier version scaled the new branches' weights by 0.01 instead: the ReLUs of those near-zero
branches all died within 1,000 steps (legs 21 and 22; ``benchmarks/php_blocks.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from _new_weights import write_new_weights
from derain.checkpoint import file_config, load_weights_file
from derain.errors import DerainError
from derain.models.php import PHPConfig, PHPNet
from derain.train.config import ModelSection
from derain.train.warmstart import initial_model


def grown_model(source: Path, blocks: int, refine_blocks: int) -> tuple[PHPNet, dict]:
    """The php of ``source`` with ``blocks`` / ``refine_blocks`` PHP blocks, layer scale on, new blocks at 0."""
    name, config, state = load_weights_file(source)
    if name != "php":
        raise DerainError(f"{source}: holds {name!r} weights, not php")
    old = dataclasses.asdict(PHPConfig(**file_config(name, config)))
    if blocks < old["blocks"] or refine_blocks < old["refine_blocks"]:
        raise DerainError(
            f"{source}: has {old['blocks']} + {old['refine_blocks']} blocks; growing cannot remove blocks"
        )
    # Every tensor of the source keeps its name; the new blocks (and the old blocks' scales, unless the
    # source already has them) keep their fresh initialisation: scale 1, which the loop below zeroes for new blocks.
    kept = {key: key for key in state}
    config = {**old, "blocks": blocks, "refine_blocks": refine_blocks, "layer_scale": True}
    model = initial_model(ModelSection(name="php", config=config, init=str(source), init_map=kept))
    assert isinstance(model, PHPNet)
    new_blocks = [*model.structure.blocks[old["blocks"] :], *model.detail.blocks[old["refine_blocks"] :]]
    with torch.no_grad():
        for block in new_blocks:
            block.scale.zero_()
    return model, config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="trained php weights")
    parser.add_argument("out", type=Path, help="where to write the grown weights (must not exist)")
    parser.add_argument("--blocks", type=int, required=True, help="PHP blocks of the first sub-network")
    parser.add_argument("--refine-blocks", type=int, required=True, help="PHP blocks of the second sub-network")
    args = parser.parse_args()

    def make() -> tuple[torch.nn.Module, str, dict, str]:
        model, config = grown_model(args.source, args.blocks, args.refine_blocks)
        return model, "php", config, f"{args.blocks} + {args.refine_blocks} blocks"

    return write_new_weights("php_grow", args.out, make)


if __name__ == "__main__":
    sys.exit(main())
