"""Average derain weights of one architecture into one weights file: a uniform "model soup".

Wortsman et al. (ICML 2022, *Model soups*) average the weights of models fine-tuned from one start:
the mean often scores better than each ingredient, at the inference cost of one. php's soup A is the
mean of leg 18's step 5,000 and leg 19's step 4,000, both continued from leg 17 (docs/methods/php.md)::

    python scripts/average_weights.py runs/php_soup_a.safetensors \\
        runs/php_leg18/run/checkpoints/step_005000.pt runs/php_leg19/run/checkpoints/step_004000.pt

Each input is a ``.safetensors`` weights file or a trainer checkpoint (``step_N.pt``, ``best.pt`` of a
run with its ``config.yaml``). Checkpoints are pickles: average only your own runs'. Every input
must hold the same model with the same config; floating-point tensors are averaged, the others
(counters) must be equal. One input converts a trainer checkpoint into a weights file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from _new_weights import write_new_weights
from derain.checkpoint import file_config, load_weights_file
from derain.errors import DerainError
from derain.models import build_model
from derain.models.registry import MODELS, make_config


def read_weights(path: Path) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    """``(model name, config, state dict)`` of a weights file or a trainer checkpoint."""
    if path.suffix == ".safetensors":
        name, config, state = load_weights_file(path)
        return name, file_config(name, config), state
    if not path.is_file():
        raise DerainError(f"{path}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)  # the user's own run (see module doc)
    except Exception as exc:  # any unpickling failure means a bad input file
        raise DerainError(f"{path}: not a trainer checkpoint ({type(exc).__name__})") from None
    model = ckpt.get("config", {}).get("model") if isinstance(ckpt, dict) else None
    if model is None:  # best.pt holds no config: read the run's
        run_config = path.parent.parent / "config.yaml"
        if not isinstance(ckpt, dict) or "model" not in ckpt or not run_config.is_file():
            raise DerainError(f"{path}: not a trainer checkpoint (no model state and config)")
        model = yaml.safe_load(run_config.read_text(encoding="utf-8"))["model"]
    name, config = model["name"], dict(model.get("config") or {})
    return name, file_config(name, config), ckpt["model"]


def _resolved(name: str, config: dict[str, Any]) -> Any:
    """The full architecture ``config`` stands for: a file that spells out a default (``php_grow``'s)
    and one that leaves it out (a trainer export's) hold the same model; tuples and lists read the same."""
    return make_config(MODELS.get(name), config)


def average(paths: list[Path]) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    """The mean state of ``paths``; a one-line DerainError names the first input that differs."""
    name, config, first = read_weights(paths[0])
    states = [first]
    for path in paths[1:]:
        other_name, other_config, state = read_weights(path)
        if other_name != name or _resolved(other_name, other_config) != _resolved(name, config):
            raise DerainError(f"{path}: holds {other_name} {other_config}, not {name} {config} like {paths[0]}")
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise DerainError(f"{path}: its tensors differ from {paths[0]}'s")
        states.append(state)
    mean = {}
    for key, tensor in first.items():
        if tensor.is_floating_point():
            mean[key] = sum(s[key].double() for s in states).div(len(states)).to(tensor.dtype)
        elif all(torch.equal(s[key], tensor) for s in states):
            mean[key] = tensor
        else:
            raise DerainError(f"{key}: integer tensor differs between inputs; cannot average it")
    return name, config, mean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="weights file to write (must not exist)")
    parser.add_argument("inputs", type=Path, nargs="+", help="weights files or trainer checkpoints")
    args = parser.parse_args()

    def make() -> tuple[torch.nn.Module, str, dict, str]:
        name, config, state = average(args.inputs)
        model = build_model(name, config)
        model.load_state_dict(state)
        count = len(args.inputs)
        what = f"mean of {count} {name} weights" if count > 1 else f"{name} weights of {args.inputs[0]}"
        return model, name, config, what

    return write_new_weights("average_weights", args.out, make)


if __name__ == "__main__":
    sys.exit(main())
