"""Start a gated php from gate-less php weights, the gate open: the start of php leg 14 (docs/methods/php.md).

The file's weights are copied into a php with ``detail_gate: true`` (same architecture otherwise), the
gate's bias set to 1 and the detail head zeroed, so the new model is the identity
(``X = X^c + 1 * (Y - X^c) = Y``) with the file's first sub-network intact. Training then learns where to
*close* the gate (every streak gives a large, direct gradient) instead of where to open it, which a
zero-initialised gate did too slowly (legs 11 and 13)::

    python scripts/php_open_gate.py LEG4.safetensors runs/php_open_gate_init.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from _new_weights import write_new_weights
from derain.checkpoint import file_config, load_weights_file
from derain.errors import DerainError
from derain.train.config import ModelSection
from derain.train.warmstart import initial_model


def open_gate_model(source: Path) -> tuple[torch.nn.Module, dict]:
    """The gated php built from ``source`` (gate open, detail head zero) and its config."""
    name, config, _ = load_weights_file(source)
    if name != "php":
        raise DerainError(f"{source}: holds {name!r} weights, not php")
    config = {**file_config(name, config), "detail_gate": True}
    section = ModelSection(
        name="php", config=config, init=str(source), init_map={"structure": "structure", "detail": "detail"}
    )
    model = initial_model(section)
    with torch.no_grad():
        model.gate.bias.fill_(1.0)
        model.detail.head.weight.zero_()
        model.detail.head.bias.zero_()
    return model, config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="php weights without a detail gate")
    parser.add_argument("out", type=Path, help="where to write the gated weights (must not exist)")
    args = parser.parse_args()

    def make() -> tuple[torch.nn.Module, str, dict, str]:
        model, config = open_gate_model(args.source)
        return model, "php", config, "gate open"

    return write_new_weights("php_open_gate", args.out, make)


if __name__ == "__main__":
    sys.exit(main())
