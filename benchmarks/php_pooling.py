"""What php's contrast-aware pooling learned: C_a on rain pixels against rain-free pixels.

The paper's C_a = sigmoid(f_d1(Y) - f_d2(Y)) should be high on streaks (so (1 - C_a) Y pools the
rain-free pixels). Rain pixels are those whose RGB differs from the clean image by more than 0.03 in
any channel; C_a is averaged over its channels. A working mask shows a clear gap between the columns.

    python benchmarks/php_pooling.py [--weights LABEL=FILE ...] [--images 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def masked_means(model: torch.nn.Module, pairs: list[tuple[Path, Path]]) -> tuple[float, float]:
    """Mean C_a over rain pixels and over rain-free pixels of ``pairs`` (all pixels pooled)."""
    pooling = model.structure.pool
    if pooling is None or pooling.kind != "contrast":
        raise SystemExit("php_pooling: these weights have no contrast-aware pooling (pooling: none or max)")
    on, off = [], []
    for rain_file, clean_file in pairs:
        rain, clean = read_rgb(rain_file), read_rgb(clean_file)
        with torch.no_grad():
            c_a = pooling.attention(torch.from_numpy(rain).permute(2, 0, 1)[None].float())[0].mean(0).numpy()
        is_rain = (np.abs(rain - clean) > RAIN_THRESHOLD).any(axis=2)
        on.append(c_a[is_rain])
        off.append(c_a[~is_rain])
    return float(np.concatenate(on).mean()), float(np.concatenate(off).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
            name: list(masked_means(model, pair_folders(*find_paired_layout(PAIRED / name))[: args.images]))
            for name in SETS
        }
    header = ["weights", *(f"{name}: rain / rain-free" for name in SETS)]
    rows = [[label, *(f"{v[0]:.3f} / {v[1]:.3f}" for v in sets.values())] for label, sets in result.items()]
    command = "python benchmarks/php_pooling.py" + "".join(f" --weights {w}" for w in args.weights)
    text = (
        f"# php: mean C_a on rain vs rain-free pixels (first {args.images} pairs per set)\n\n"
        + "\n".join(markdown_table(header, rows))
        + f"\n\n`{command}`\n"
    )
    data = {"environment": describe_hardware(torch.device("cpu")), "sources": sources, "c_a": result}
    write_results(args.out, "php_pooling", data, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
