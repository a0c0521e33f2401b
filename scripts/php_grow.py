"""Grow trained php weights by more PHP blocks, starting next to the old function: the start of php leg 21.

php's blocks are residual (``x + f``), so a block whose branches output nothing is the identity.
Zero weights would also give zero gradients (the branches' ReLU has slope 0 at 0), so the new
blocks' branch convolutions get their usual random initialisation scaled by ``--scale`` (default
0.01): the grown model starts within about ``scale`` of the source's output and every new block
still learns. The source's parameters are copied unchanged; its existing blocks keep their dilations
(block ``b`` uses ``(b + 1) * (1..k)`` whatever the depth)::

    python scripts/php_grow.py src/derain/weights/php.safetensors runs/php_grown.safetensors \
        --blocks 4 --refine-blocks 2
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from derain.checkpoint import file_config, load_weights_file, save_weights
from derain.errors import DerainError
from derain.models.php import PHPConfig, PHPNet
from derain.train.config import ModelSection
from derain.train.warmstart import initial_model


def grown_model(source: Path, blocks: int, refine_blocks: int, scale: float) -> tuple[PHPNet, dict]:
    """The php of ``source`` with ``blocks`` / ``refine_blocks`` PHP blocks (new ones scaled by ``scale``)."""
    name, config, state = load_weights_file(source)
    if name != "php":
        raise DerainError(f"{source}: holds {name!r} weights, not php")
    old = dataclasses.asdict(PHPConfig(**file_config(name, config)))
    if blocks < old["blocks"] or refine_blocks < old["refine_blocks"]:
        raise DerainError(
            f"{source}: has {old['blocks']} + {old['refine_blocks']} blocks; growing cannot remove blocks"
        )
    if not 0.0 < scale <= 1.0:
        raise DerainError(f"--scale must be in (0, 1], got {scale}")
    # Every tensor of the source keeps its name; only the new blocks' tensors are left out of the map.
    kept = {key: key for key in state}
    config = {**old, "blocks": blocks, "refine_blocks": refine_blocks}
    model = initial_model(ModelSection(name="php", config=config, init=str(source), init_map=kept))
    assert isinstance(model, PHPNet)
    new_blocks = [*model.structure.blocks[old["blocks"] :], *model.detail.blocks[old["refine_blocks"] :]]
    with torch.no_grad():
        for block in new_blocks:
            for branch in block.branches:
                branch.weight.mul_(scale)
                branch.bias.mul_(scale)
    return model, config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="trained php weights")
    parser.add_argument("out", type=Path, help="where to write the grown weights (must not exist)")
    parser.add_argument("--blocks", type=int, required=True, help="PHP blocks of the first sub-network")
    parser.add_argument("--refine-blocks", type=int, required=True, help="PHP blocks of the second sub-network")
    parser.add_argument("--scale", type=float, default=0.01, help="scale of the new blocks' branch weights")
    args = parser.parse_args()
    try:
        if args.out.exists():
            raise DerainError(f"{args.out}: already exists; choose another output")
        model, config = grown_model(args.source, args.blocks, args.refine_blocks, args.scale)
        save_weights(model, args.out, model_name="php", config=config)
    except (DerainError, OSError) as error:
        print(f"php_grow: {error}", file=sys.stderr)
        return 1
    print(f"php_grow: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
