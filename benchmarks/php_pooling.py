"""What php's masks learned: the mean of a mask on rain pixels against rain-free pixels.

``--mask pooling`` (default): the paper's C_a = sigmoid(f_d1(Y) - f_d2(Y)) should be high on streaks
(so (1 - C_a) Y pools the rain-free pixels). ``--mask gate``: derain's detail gate ``g`` (weights with
``detail_gate``) should be near 1 on rain-free pixels (the input's detail kept) and low on streaks.
Rain pixels are those whose RGB differs from the clean image by more than 0.03 in any channel; masks
are averaged over their channels. A working mask shows a clear gap between the columns.

    python benchmarks/php_pooling.py [--mask pooling|gate] [--weights LABEL=FILE ...] [--images 6]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

import derain
from _results import markdown_table, write_results
from derain.commands._options import parse_weights
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"
SETS = ("rain100l_subset11", "rain100h_trainsub18")
RAIN_THRESHOLD = 0.03


def pooling_attention(model: torch.nn.Module, rain: torch.Tensor) -> torch.Tensor:
    """C_a of the first sub-network's contrast-aware pooling."""
    pooling = model.structure.pool
    if pooling is None or pooling.kind != "contrast":
        raise SystemExit("php_pooling: these weights have no contrast-aware pooling (pooling: none or max)")
    return pooling.attention(rain)


def detail_gate(model: torch.nn.Module, rain: torch.Tensor) -> torch.Tensor:
    """The detail gate g (``PHPNet.gate_map``)."""
    if model.gate is None:
        raise SystemExit("php_pooling: these weights have no detail gate (detail_gate: false)")
    return model.gate_map(rain)


class Mask(NamedTuple):
    """A mask to measure: how to read it from a model, its name in the report, JSON key and results file."""

    read: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    title: str
    key: str
    results: str


MASKS = {
    "pooling": Mask(pooling_attention, "C_a", "c_a", "php_pooling"),
    "gate": Mask(detail_gate, "detail gate g", "g", "php_gate"),
}


def masked_means(model: torch.nn.Module, pairs: list[tuple[Path, Path]], mask: str) -> tuple[float, float]:
    """Mean of ``mask`` over rain pixels and over rain-free pixels of ``pairs`` (all pixels pooled)."""
    on, off = [], []
    for rain_file, clean_file in pairs:
        rain, clean = read_rgb(rain_file), read_rgb(clean_file)
        with torch.no_grad():
            values = MASKS[mask].read(model, torch.from_numpy(rain).permute(2, 0, 1)[None].float())[0].mean(0).numpy()
        is_rain = (np.abs(rain - clean) > RAIN_THRESHOLD).any(axis=2)
        on.append(values[is_rain])
        off.append(values[~is_rain])
    return float(np.concatenate(on).mean()), float(np.concatenate(off).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mask", choices=sorted(MASKS), default="pooling", help="which mask to measure")
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE (default: the bundled php)")
    parser.add_argument("--images", type=int, default=6, help="first N pairs of each set")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not PAIRED.is_dir():
        print(f"php_pooling: {PAIRED} not found (needs ../shared/data)", file=sys.stderr)
        return 1
    sources = {label: str(file) for label, file in parse_weights(args.weights).items()} or {"php (bundled)": "php"}
    result: dict[str, dict[str, list[float]]] = {}
    for label, source in sources.items():
        model = derain.load(source, "cpu").model
        result[label] = {
            name: list(masked_means(model, pair_folders(*find_paired_layout(PAIRED / name))[: args.images], args.mask))
            for name in SETS
        }
    header = ["weights", *(f"{name}: rain / rain-free" for name in SETS)]
    rows = [[label, *(f"{v[0]:.3f} / {v[1]:.3f}" for v in sets.values())] for label, sets in result.items()]
    command = f"python benchmarks/php_pooling.py --mask {args.mask}" + "".join(f" --weights {w}" for w in args.weights)
    mask = MASKS[args.mask]
    text = (
        f"# php: mean {mask.title} on rain vs rain-free pixels (first {args.images} pairs per set)\n\n"
        + "\n".join(markdown_table(header, rows))
        + f"\n\n`{command}`\n"
    )
    data = {
        "environment": describe_hardware(torch.device("cpu")),
        "sources": sources,
        mask.key: result,
    }
    write_results(args.out, mask.results, data, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
