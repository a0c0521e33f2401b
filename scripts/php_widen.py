"""Widen trained php weights: more channels in each sub-network, the same output to float rounding (php round 19).

With 45 k parameters every php recipe traded Rain12 for Rain100H's SSIM-Y (docs/methods/php.md,
Status). This tests whether capacity is the limit without retraining from scratch: the widened php
starts where the source is and learns from there (Net2Net, Chen et al. 2016, "function-preserving
transformations"; derain's variant keeps the new channels live instead of copying old ones).

How the function is kept:

- The residual stream of each sub-network is laid out branch by branch, because a PHP block adds the
  concatenation of its branches to its input. Old channel ``c`` (branch ``c // b``, index ``c % b``)
  moves to ``(c // b) * b' + g(c % b)``, with one index map ``g`` for every branch (the top-down
  aggregation adds index ``j`` of one branch to index ``j`` of the next). ``g`` keeps the last
  ``pooled`` indices last, so the pooled image still closes the stream.
- Every convolution copies its old weights to the moved positions. Its weights *from* new input
  channels are zero, so no old output reads a new channel; its new *output* channels keep their fresh
  random initialisation. The new channels therefore carry live features from the first step, nothing
  reads them yet, and the first gradient step starts the weights that read them (they see a non-zero
  input). No layer scale is needed: the output is the source's whatever the new channels hold.

    python scripts/php_widen.py runs/ck/l32s5000.safetensors runs/php_wide.safetensors \
        --width 48 --refine-width 24
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch
from torch import nn

from _new_weights import write_new_weights
from derain.checkpoint import apply_weights, file_config, load_weights_file
from derain.errors import DerainError
from derain.models import build_model
from derain.models.php import PHPConfig, PHPNet, SubNet


def stream_map(width: int, new_width: int, branches: int, pooled: int) -> list[int]:
    """New position of each old residual-stream channel (see the module docstring)."""
    old_b, new_b = width // branches, new_width // branches

    def within(j: int) -> int:
        return j if j < old_b - pooled else j + new_b - old_b

    return [(c // old_b) * new_b + within(c % old_b) for c in range(width)]


def _copy_conv(new: nn.Conv2d, old: nn.Conv2d, out_map: list[int], in_map: list[int] | None) -> None:
    """Old weights to their moved places; new inputs read with zero weight; new outputs stay random."""
    weight = new.weight
    if in_map is not None:  # a full convolution: zero what old outputs read from new inputs
        weight[out_map] = 0.0
        weight[torch.tensor(out_map)[:, None], torch.tensor(in_map)[None, :]] = old.weight
    else:  # depthwise: one filter per channel
        weight[out_map] = old.weight
    if new.bias is not None:
        new.bias[out_map] = old.bias


def _widen_subnet(new: SubNet, old: SubNet, stream: list[int], branch: list[int]) -> None:
    """Copy ``old`` into the wider ``new`` with the residual stream at ``stream`` and branch outputs at ``branch``."""
    convs = [(n, o) for n, o in zip(new.stem, old.stem, strict=True) if isinstance(n, nn.Conv2d)]
    for level, (n, o) in enumerate(convs):  # earlier stem levels keep their channels first, the new ones after
        out_map = stream[: o.out_channels] if level == len(convs) - 1 else list(range(o.out_channels))
        _copy_conv(n, o, out_map, list(range(o.in_channels)))
    if old.pool is not None:
        new.pool.load_state_dict(old.pool.state_dict())
    for n_block, o_block in zip(new.blocks, old.blocks, strict=True):
        for n, o in zip(n_block.branches, o_block.branches, strict=True):
            _copy_conv(n, o, branch, stream)
        if o_block.reweight is not None:
            for n, o in zip(n_block.reweight.t, o_block.reweight.t, strict=True):
                if isinstance(n, nn.Conv2d):
                    _copy_conv(n, o, stream, None)
        if o_block.scale is not None:  # layer scale (a grown php): new channels keep their fresh 1
            n_block.scale[:, stream] = o_block.scale
    _copy_conv(new.head, old.head, list(range(old.head.out_channels)), stream)


def widened_model(source: Path, width: int, refine_width: int) -> tuple[PHPNet, dict]:
    """The php of ``source`` with ``width`` / ``refine_width`` channels and the same output."""
    name, config, state = load_weights_file(source)
    if name != "php":
        raise DerainError(f"{source}: holds {name!r} weights, not php")
    old_config = dataclasses.asdict(PHPConfig(**file_config(name, config)))
    if width < old_config["width"] or refine_width < old_config["refine_width"]:
        raise DerainError(
            f"{source}: is {old_config['width']} / {old_config['refine_width']} wide; widening cannot narrow it"
        )
    if old_config["pyramid"] == "hierarchical":  # one branch per block: a stream laid out differently
        raise DerainError(f"{source}: a 'hierarchical' pyramid (Table IV variant) cannot be widened by this script")
    k = old_config["branches"]
    if width % k or refine_width % k:
        raise DerainError(f"--width and --refine-width must be multiples of the branch count ({k})")
    old = apply_weights(build_model("php", old_config), state, source)
    new_config = {**old_config, "width": width, "refine_width": refine_width}
    new = build_model("php", new_config)
    assert isinstance(old, PHPNet) and isinstance(new, PHPNet)
    pooled = 0 if old.structure.pool is None else 3
    streams = {}
    with torch.no_grad():
        for sub, wide, narrow, pool in (
            ("structure", width, old_config["width"], pooled),
            ("detail", refine_width, old_config["refine_width"], 0),
        ):
            streams[sub] = stream_map(narrow, wide, k, pool)
            branch = stream_map(narrow // k, wide // k, 1, pool)
            _widen_subnet(getattr(new, sub), getattr(old, sub), streams[sub], branch)
        if old.gate is not None:  # the gate head reads the second sub-network's stream
            _copy_conv(new.gate, old.gate, list(range(old.gate.out_channels)), streams["detail"])
        if old.gate_refine is not None:
            new.gate_refine.load_state_dict(old.gate_refine.state_dict())
    return new, new_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="trained php weights")
    parser.add_argument("out", type=Path, help="where to write the widened weights (must not exist)")
    parser.add_argument("--width", type=int, required=True, help="channels of the first sub-network")
    parser.add_argument("--refine-width", type=int, required=True, help="channels of the second sub-network")
    args = parser.parse_args()

    def make() -> tuple[torch.nn.Module, str, dict, str]:
        model, config = widened_model(args.source, args.width, args.refine_width)
        return model, "php", config, f"{args.width} / {args.refine_width} channels"

    return write_new_weights("php_widen", args.out, make)


if __name__ == "__main__":
    sys.exit(main())
