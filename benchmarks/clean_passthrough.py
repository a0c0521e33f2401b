"""How much each model harms an image that has no rain: derain the *clean* images of the paired sets.

A derainer is often run on every frame, rain or not, so what it does to a rain-free photo matters as
much as what it removes. For each development paired set, each model derains the ``clean/`` images
and is scored against them (Y-channel PSNR/SSIM, the benchmark protocol, outputs quantised to 8 bits).
A perfect passthrough scores inf / 1. Writes ``benchmarks/results/clean_passthrough.{json,md}``.

    .venv/bin/python benchmarks/clean_passthrough.py
    .venv/bin/python benchmarks/clean_passthrough.py --weights tl_lb1=runs/old/timelapse.safetensors
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from _results import markdown_table, write_results
from derain.commands._options import parse_weights
from derain.data.io import list_images, read_rgb
from derain.errors import DerainError
from derain.eval.bench import bundled_models, load_models
from derain.eval.metrics import PROTOCOL, score_images

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "bench", help="benchmark root")
    parser.add_argument("--models", default=None, help="comma-separated names (default: all with bundled weights)")
    parser.add_argument("--weights", action="append", default=[], metavar="LABEL=FILE", help="extra weights (repeat)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    names = args.models.split(",") if args.models else bundled_models()
    models = load_models(names, parse_weights(args.weights), device=args.device)
    sets = sorted(p for p in (args.data / "paired").iterdir() if (p / "clean").is_dir())
    table: dict[str, dict[str, dict[str, float]]] = {}
    for folder in sets:
        images = [read_rgb(path) for path in list_images(folder / "clean")]
        print(f"clean_passthrough: {folder.name} ({len(images)} images)", file=sys.stderr)
        table[folder.name] = {
            m.label: _mean([score_images(m.derainer(image), image, quantize=True) for image in images]) for m in models
        }
        table[folder.name]["count"] = {"images": len(images)}
    command = shlex.join(["python", "benchmarks/clean_passthrough.py", *sys.argv[1:]])
    markdown = _markdown(table, [m.label for m in models], command)
    _, md = write_results(args.out, "clean_passthrough", {"protocol": PROTOCOL, "sets": table}, markdown)
    print(md)
    return 0


def _mean(scores: list[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}


def _markdown(table: dict[str, dict[str, dict[str, float]]], labels: list[str], command: str) -> str:
    sets = list(table)
    header = ["model", *(f"{s} ({table[s]['count']['images']})" for s in sets)]
    rows = [
        [label, *(f"{table[s][label]['psnr_y']:.2f} / {table[s][label]['ssim_y']:.4f}" for s in sets)]
        for label in labels
    ]
    lines = [
        "Clean passthrough: each model derains the rain-free `clean/` images of the development paired sets;",
        "PSNR-Y / SSIM-Y of the output against its own input (inf / 1 = untouched).",
        f"Command: `{command}` (labels other than registered names are `--weights` files).",
        "",
        *markdown_table(header, rows),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DerainError as exc:
        sys.exit(f"clean_passthrough.py: {exc}")
