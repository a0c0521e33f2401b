"""Which part of php changes rain-free pixels? php's output is ``X = X^c + r_2 + g (Y - X^c)``
(``PHPNet.parts``); on a rain-free pixel the right output is the input ``Y``, so its error is

    X - Y = (1 - g) (X^c - Y)  +  r_2
            "gate term"           "refinement"

Per set and weights file, over the pooled rain-free pixels (``tone_shift.py``'s definition: Y within
3 % of the clean image's): their PSNR-Y, the mean gate there and on the rain pixels, the RMS of the
gate term and the mean and RMS of ``r_2`` (Y, grey levels; a negative mean is a darkening). A gate
that works is near 1 on rain-free pixels and clearly lower on rain.

    python benchmarks/php_detail.py [--weights LABEL=FILE ...] [--set DIR ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

import derain
from _results import table_report, write_results
from derain.commands._options import parse_weights
from derain.data.arrays import to_chw
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.metrics import psnr_from_mse, rgb_to_y
from derain.hardware import describe_hardware
from tone_shift import RAIN_FREE_Y

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"
DEFAULT_SETS = (PAIRED / "rain12", PAIRED / "rain100l_subset11")
FIELDS = ("free_psnr_y", "gate_free", "gate_rain", "gate_term_rms", "refine_mean", "refine_rms")


def _luma_change(rgb_change: np.ndarray) -> np.ndarray:
    """Y (grey levels) of an RGB difference: ``rgb_to_y`` without its offset."""
    return rgb_to_y(rgb_change) - rgb_to_y(np.zeros(3))


def decompose_rain_free_error(model: torch.nn.Module, pairs: list[tuple[Path, Path]]) -> dict[str, float]:
    """The :data:`FIELDS` of one model over the pooled rain-free pixels of ``pairs``."""
    if getattr(model, "gate", None) is None:
        raise SystemExit("php_detail: these weights have no detail gate (detail_gate: false)")
    free_err, gate_term, refine, gate_free, gate_rain = [], [], [], [], []
    for rain_file, clean_file in pairs:
        rain, clean = read_rgb(rain_file), read_rgb(clean_file)
        x = to_chw(rain)[None]
        with torch.no_grad():
            parts = model.parts(x)
            output = parts.combine(x).clamp(0.0, 1.0)[0].permute(1, 2, 0).double().numpy()
        coarse, r2, g = (t[0].permute(1, 2, 0).double().numpy() for t in parts)
        free = np.abs(rgb_to_y(rain) - rgb_to_y(clean)) < RAIN_FREE_Y
        free_err.append((rgb_to_y(output) - rgb_to_y(clean))[free])
        gate_term.append(_luma_change((1.0 - g) * (coarse - rain))[free])
        refine.append(_luma_change(r2)[free])
        gate_free.append(g.mean(axis=2)[free])
        gate_rain.append(g.mean(axis=2)[~free])
    err, term, r2_free = (np.concatenate(v) for v in (free_err, gate_term, refine))
    mse = float(np.mean(err**2))
    return {
        "free_psnr_y": psnr_from_mse(mse),
        "gate_free": float(np.concatenate(gate_free).mean()),
        "gate_rain": float(np.concatenate(gate_rain).mean()),
        "gate_term_rms": float(np.sqrt(np.mean(term**2))),
        "refine_mean": float(r2_free.mean()),
        "refine_rms": float(np.sqrt(np.mean(r2_free**2))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE (default: the bundled php)")
    parser.add_argument(
        "--set", action="append", type=Path, default=[], help="paired folder (default: Rain12, Rain100L)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--name", default="php_detail", help="results file name (without extension)")
    args = parser.parse_args()
    sets = args.set or list(DEFAULT_SETS)
    missing = [str(folder) for folder in sets if not folder.is_dir()]
    if missing:
        print(f"php_detail: {missing[0]} not found (the default sets need ../shared/data)", file=sys.stderr)
        return 1
    sources = {label: str(file) for label, file in parse_weights(args.weights).items()} or {"php (bundled)": "php"}
    result = {
        label: {
            folder.name: decompose_rain_free_error(
                derain.load(source, "cpu").model, pair_folders(*find_paired_layout(folder))
            )
            for folder in sets
        }
        for label, source in sources.items()
    }
    header = ["weights", "set", "rain-free PSNR-Y", "g rain-free / rain", "gate term RMS", "r_2 mean / RMS"]
    rows = [
        [label, name, f"{s['free_psnr_y']:.2f}", f"{s['gate_free']:.3f} / {s['gate_rain']:.3f}",
         f"{s['gate_term_rms']:.2f}", f"{s['refine_mean']:+.2f} / {s['refine_rms']:.2f}"]
        for label, per_set in result.items()
        for name, s in per_set.items()
    ]  # fmt: skip
    command = "python benchmarks/php_detail.py" + "".join(f" --weights {w}" for w in args.weights)
    command += "".join(f" --set {folder}" for folder in args.set)
    blurb = (
        "X − Y = (1 − g)(X^c − Y) + r_2 on rain-free pixels (Y within 3 % of the clean image's); "
        "gate term and r_2 in Y grey levels."
    )
    text = table_report("php: where the error on rain-free pixels comes from", blurb, header, rows, command)
    data = {
        "environment": describe_hardware(torch.device("cpu")),
        "sources": sources,
        "fields": FIELDS,
        "result": result,
    }
    write_results(args.out, args.name, data, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
