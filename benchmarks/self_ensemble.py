"""What the left-right self-ensemble buys: each model's scores with one pass and with the mirrored average.

``derain run --self-ensemble`` (``derain.load(..., self_ensemble=True)``) derains every tile as is and
mirrored, and averages the two outputs (:class:`derain.inference.Engine`). This scores both ways on
paired sets (the field's protocol, outputs quantised to 8 bits as ``derain bench`` does) and times both
through the engine on a 512x512 image (median of ``--runs``, the threads torch has).

    python benchmarks/self_ensemble.py --models fastnet,php [--weights LABEL=FILE ...] [--sets DIR ...]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from _results import table_report, write_results
from _timing import median_ms
from derain.api import Derainer
from derain.commands._options import parse_weights
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.bench import environment, load_models
from derain.eval.metrics import score_images

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"


def mean_scores(derainer: Derainer, pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean PSNR-Y and SSIM-Y of ``derainer`` over ``(rain, clean)`` arrays."""
    scores = [score_images(derainer(rain), clean, quantize=True) for rain, clean in pairs]
    return {key: float(np.mean([s[key] for s in scores])) for key in ("psnr_y", "ssim_y")}


def engine_ms(derainer: Derainer, runs: int, size: int = 512) -> float:
    """Median wall ms of one ``size``² image through ``derainer`` (engine, tiling and mirroring included)."""
    image = np.random.default_rng(0).random((size, size, 3), dtype=np.float32)
    return median_ms(lambda: derainer(image), runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fastnet,php", help="bundled models, comma-separated")
    parser.add_argument("--weights", action="append", default=[], metavar="LABEL=FILE", help="extra weights (repeat)")
    parser.add_argument("--sets", type=Path, nargs="+", default=None, help="paired folders (default: the dev sets)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model and mode (median)")
    parser.add_argument("--name", default="self_ensemble", help="stem of the result files")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    sets = args.sets or sorted(p for p in PAIRED.iterdir() if p.is_dir())
    pairs = {}
    for folder in sets:  # every folder is read before any model runs: a typo fails in seconds
        pairs[folder.name] = [(read_rgb(r), read_rgb(c)) for r, c in pair_folders(*find_paired_layout(folder))]
    names, weights = [n for n in args.models.split(",") if n], parse_weights(args.weights)
    modes = {mirror: load_models(names, weights, device="cpu", self_ensemble=mirror) for mirror in (False, True)}
    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for name, items in pairs.items():
        print(f"self_ensemble: {name} ({len(items)} images)", file=sys.stderr)
        table[name] = {
            plain.label: {
                "plain": mean_scores(plain.derainer, items),
                "self_ensemble": mean_scores(both.derainer, items),
            }
            for plain, both in zip(modes[False], modes[True], strict=True)
        }
    cost = {m.label: engine_ms(m.derainer, args.runs) for m in modes[False]}
    cost_both = {m.label: engine_ms(m.derainer, args.runs) for m in modes[True]}
    header = ["set", "model", "one pass", "self-ensemble", "gain (dB / SSIM)"]
    rows = [
        [name, label, *(f"{s[k]['psnr_y']:.2f} / {s[k]['ssim_y']:.4f}" for k in ("plain", "self_ensemble")),
         f"{s['self_ensemble']['psnr_y'] - s['plain']['psnr_y']:+.2f} / "
         f"{s['self_ensemble']['ssim_y'] - s['plain']['ssim_y']:+.4f}"]
        for name, by_model in table.items()
        for label, s in by_model.items()
    ]  # fmt: skip
    rows += [["ms per 512² (engine)", label, f"{cost[label]:.0f}", f"{cost_both[label]:.0f}", ""] for label in cost]
    env = environment(torch.device("cpu"))
    command = "python benchmarks/self_ensemble.py " + shlex.join(sys.argv[1:])
    blurb = (
        "PSNR-Y / SSIM-Y (the field's protocol, outputs quantised to 8 bits) with one pass and with the mean of a"
        " pass and its left-right mirror; last rows: wall ms of a 512² image through the engine,"
        f" {torch.get_num_threads()} threads, CPU {env['cpu_model']}, {env['date']}."
    )
    text = table_report("Self-ensemble: one pass against the mirrored average", blurb, header, rows, command)
    write_results(args.out, args.name, {"sets": table, "ms_512": {"plain": cost, "self_ensemble": cost_both}}, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
