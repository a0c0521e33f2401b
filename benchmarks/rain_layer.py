"""Is what a model removes the rain? Per paired set: the removed layer against the true rain layer.

A score says how close the output is; it does not say whether the model took off the rain or
something else. On Y (0-255), with R = rain - clean the true rain layer and E = rain - output the
removed one, per image:

- ``corr``: Pearson correlation of E and R (1: it removes the rain's pattern, at some strength);
- ``on_rain``: share of E's energy (sum of E^2) on rain pixels, |R| >= 3 % of the range
  (``tone_shift.py``'s rain-free threshold);
- ``left``: the share of R still in the output, the least-squares slope of (output - clean) on R
  (0: all of it removed, 1: none, below 0: more than the rain was taken off);
- ``shift_in`` / ``shift_out``: mean Y of rain - clean and of output - clean (brightening left in);
- ``affine_gain``: PSNR-Y gained by the best per-image affine map of the output's Y onto the
  clean Y (an oracle no model has): how much of the error is a global tone or veil left in, the
  part a better streak detector cannot fix.

PSNR is taken on unquantised outputs, so it can differ from ``derain bench`` in the third decimal.
``--passes N`` also scores the model run again on its own output, up to N times (label ``name xK``):
does a second pass take off what the first left?

    python benchmarks/rain_layer.py --models fastnet [--weights LABEL=FILE ...] --sets DIR [DIR ...] [--passes N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from _models import cpu_models
from _results import table_report, write_results
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.metrics import rgb_to_y
from derain.hardware import describe_hardware
from tone_shift import RAIN_FREE_Y, psnr_y

REPO = Path(__file__).resolve().parents[1]
KEYS = ("psnr_y", "corr", "on_rain", "left", "shift_in", "shift_out", "affine_gain")


def layer_scores(output: np.ndarray, rain: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """The module docstring's figures for one output (float RGB images in [0, 1])."""
    y_out, y_rain, y_clean = (rgb_to_y(np.asarray(a, np.float64)) for a in (output, rain, clean))
    true, removed, residual = y_rain - y_clean, y_rain - y_out, y_out - y_clean
    on = np.abs(true) >= RAIN_FREE_Y
    energy = float((removed**2).sum())
    both_vary = removed.std() > 0 and true.std() > 0
    fit = np.polyfit(y_out.ravel(), y_clean.ravel(), 1) if y_out.std() > 0 else (0.0, y_clean.mean())
    mapped = np.clip(np.polyval(fit, y_out), 16.0, 235.0)
    score = psnr_y(y_out, y_clean)
    return {
        "psnr_y": score,
        "corr": float(np.corrcoef(removed.ravel(), true.ravel())[0, 1]) if both_vary else 0.0,
        "on_rain": float((removed[on] ** 2).sum() / energy) if energy > 0 else 0.0,
        "left": float((residual * true).sum() / (true * true).sum()) if true.any() else 0.0,
        "shift_in": float(true.mean()),
        "shift_out": float(residual.mean()),
        "affine_gain": psnr_y(mapped, y_clean) - score,
    }


Derain = Callable[[np.ndarray], np.ndarray]


def score_set(models: dict[str, Derain], folder: Path, passes: int = 1) -> dict[str, dict[str, float]]:
    """Mean :func:`layer_scores` over a paired folder, per model label (``label xK`` for pass K > 1)."""
    per_model: dict[str, list[dict[str, float]]] = {}
    for rain_file, clean_file in pair_folders(*find_paired_layout(folder)):
        rain, clean = read_rgb(rain_file), read_rgb(clean_file)
        for label, model in models.items():
            output = rain
            for k in range(1, passes + 1):
                output = np.clip(model(output), 0, 1)
                per_model.setdefault(label if k == 1 else f"{label} x{k}", []).append(layer_scores(output, rain, clean))
    return {label: {k: float(np.mean([s[k] for s in rows])) for k in KEYS} for label, rows in per_model.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fastnet", help="bundled models, comma-separated")
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE: also score these weights")
    parser.add_argument("--sets", type=Path, nargs="+", required=True, help="paired folders (rain/ + clean/)")
    parser.add_argument("--passes", type=int, default=1, help="also score 2..N runs of a model on its own output")
    parser.add_argument("--name", default="rain_layer", help="stem of the result files")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    for folder in args.sets:
        if not folder.is_dir():
            print(f"rain_layer: {folder} not found", file=sys.stderr)
            return 1
    torch.set_num_threads(2)
    if args.passes < 1:
        print(f"rain_layer: --passes must be at least 1, got {args.passes}", file=sys.stderr)
        return 1
    models, sources = cpu_models(args.models, args.weights)
    results = {folder.name: score_set(models, folder, args.passes) for folder in args.sets}
    header = ["set", "model", "PSNR-Y", "corr", "on rain", "left", "ΔY in", "ΔY out", "affine gain (dB)"]
    rows = [
        [name, label, *(f"{s[k]:.2f}" if k != "on_rain" else f"{100 * s[k]:.0f} %" for k in KEYS)]
        for name, by_label in results.items()
        for label, s in by_label.items()
    ]
    command = "python benchmarks/rain_layer.py --models " + args.models
    command += "".join(f" --weights {w}" for w in args.weights) + " --sets " + " ".join(map(str, args.sets))
    command += f" --passes {args.passes}" if args.passes > 1 else ""
    blurb = (
        "Means over each set's images; the columns are defined in `benchmarks/rain_layer.py`'s docstring"
        " (ΔY: mean Y shift against the clean image, grey levels)."
    )
    text = table_report("What each model removes, against the true rain layer", blurb, header, rows, command)
    data = {"environment": describe_hardware(torch.device("cpu")), "sources": sources, "sets": results}
    write_results(args.out, args.name, data, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
