"""Per-regime quality of a derainer on held-out ``real-mix`` rain: which kinds of rain it removes.

Renders each real-mix regime (light, heavy, misty, rain100h, dark, broad; camera degradations
included, as in training) on top-left crops of held-out Kodak24 photos, one fixed seed per regime,
and scores input and output (PSNR-Y, README protocol). In-domain, so it separates "the model
cannot remove this kind of rain" from "our rain does not look like the benchmark's". Two rows come
from real-mix-2: ``near`` (thick bright near strokes) and ``hazy scene`` (light rain on a scene that
is hazy itself, haze 0.25 of grey 0.8, scored against the hazy scene: a model that dehazes loses).

    python benchmarks/real_mix_regimes.py --models fastnet,baseline [--weights LABEL=FILE ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

import derain
from _results import markdown_table, write_results
from derain.commands._options import parse_weights
from derain.data.io import read_image
from derain.data.synth.mixture import MIXTURES, RainRecipe, render_recipe
from derain.eval.metrics import psnr
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
KODAK = REPO.parent / "shared" / "data" / "clean" / "Kodak24"
REGIMES = ("light", "heavy", "misty", "rain100h", "dark", "broad", "near", "hazy scene")
_REGIMES_2 = MIXTURES["real-mix-2"].regimes  # real-mix's regimes (the same draws) plus "near"


def draw(regime: str, rng: np.random.Generator) -> RainRecipe:
    """One recipe of ``regime``; "hazy scene" is light rain on a scene hazed 0.25 toward grey 0.8."""
    if regime == "hazy scene":
        return dataclasses.replace(_REGIMES_2["light"][1](rng), scene_haze=0.25, scene_airlight=0.8)
    return _REGIMES_2[regime][1](rng)


def score(models: dict[str, str], photos: list[Path], size: int) -> dict[str, dict[str, float]]:
    """Mean PSNR-Y of the input and of each model (label -> name or file) per regime, the same rain for all."""
    derainers = {label: derain.load(source, "cpu") for label, source in models.items()}
    table: dict[str, dict[str, float]] = {}
    for regime in REGIMES:
        rng = np.random.default_rng(7)
        scores: dict[str, list[float]] = {"input": [], **{m: [] for m in models}}
        for photo in photos:
            comp = render_recipe(read_image(photo).rgb[:size, :size], draw(regime, rng), rng)
            rainy, clean = np.clip(comp.image, 0.0, 1.0), comp.background
            scores["input"].append(psnr(rainy, clean))
            for name, model in derainers.items():
                scores[name].append(psnr(np.clip(model(rainy), 0.0, 1.0), clean))
        table[regime] = {k: float(np.mean(v)) for k, v in scores.items()}
        print(regime, {k: round(v, 2) for k, v in table[regime].items()}, flush=True)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fastnet", help="comma-separated bundled models")
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE: also score these weights")
    parser.add_argument("--photos", type=int, default=12, help="first N Kodak24 photos")
    parser.add_argument("--size", type=int, default=384, help="crop side (top-left)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not KODAK.is_dir():
        print(f"real_mix_regimes: {KODAK} not found (needs ../shared/data)", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    models = {name: name for name in args.models.split(",") if name}
    models |= {label: str(file) for label, file in parse_weights(args.weights).items()}
    table = score(models, sorted(KODAK.glob("*.png"))[: args.photos], args.size)
    columns = ["input", *models]
    rows = [[regime, *(f"{table[regime][c]:.2f}" for c in columns)] for regime in REGIMES]
    text = (
        f"# PSNR-Y per real-mix regime ({args.photos} Kodak24 crops of {args.size} px, seed 7 per regime)\n\n"
        + "\n".join(markdown_table(["regime", *columns], rows))
        + "\n\n`python benchmarks/real_mix_regimes.py --models "
        + args.models
        + "".join(f" --weights {w}" for w in args.weights)
        + "`\n"
    )
    data = {
        "environment": describe_hardware(torch.device("cpu")),
        "photos": args.photos,
        "size": args.size,
        "psnr_y": table,
    }
    write_results(args.out, "real_mix_regimes", data, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
