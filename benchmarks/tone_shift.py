"""Does a model change a photo's tone? Per image: PSNR-Y, mean Y shift against the clean image,
PSNR-Y on rain-free pixels only (where the right output is the input) and the darkest block's shift.

A model that learned to remove a rain veil from every image darkens hazy scenes even when their
rain is light; this finds those images (docs/quality.md, "Haze is not rain"). Rain-free pixels are
those whose Y differs from the clean image's by under 3 % of the range. PSNR is computed here on Y
(``rgb_to_y``) rather than with ``derain.eval.metrics.psnr`` because it is also taken over a pixel
subset; outputs are not quantised, so whole-image figures can differ from ``derain bench`` in the
third decimal.

    python benchmarks/tone_shift.py --models php,fastnet,baseline [--weights LABEL=FILE ...] [--set DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from _models import cpu_models
from _results import markdown_table, write_results
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.metrics import psnr_from_mse, rgb_to_y
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
RAIN12 = REPO.parent / "shared" / "data" / "bench" / "paired" / "rain12"
#: Y difference (on the 0-255 scale) below which a pixel counts as rain-free.
RAIN_FREE_Y = 0.03 * 255
#: Blocks per side for the regional shift (8 x 8 blocks: about 60 x 40 px on Rain12's 481 x 321 images).
BLOCK_GRID = 8


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    return psnr_from_mse(float(np.mean((a - b) ** 2)))


def darkest_block_shift(shift: np.ndarray, free: np.ndarray, grid: int = BLOCK_GRID) -> float:
    """The most negative mean Y shift over the rain-free pixels of one block of a ``grid`` x ``grid`` split.

    A whole-image mean hides a regional tone change (a darkened sky next to under-removed streaks);
    blocks with under a quarter of rain-free pixels are skipped.
    """
    h, w = shift.shape
    means = []
    for i in range(grid):
        for j in range(grid):
            rows, cols = slice(i * h // grid, (i + 1) * h // grid), slice(j * w // grid, (j + 1) * w // grid)
            block_free = free[rows, cols]
            if block_free.mean() >= 0.25:
                means.append(float(shift[rows, cols][block_free].mean()))
    return min(means, default=0.0)


def score_image(output: np.ndarray, rain: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """PSNR-Y, mean Y shift (output - clean, grey levels), rain-free PSNR-Y and darkest block shift of one output."""
    y_out, y_rain, y_clean = rgb_to_y(output), rgb_to_y(rain), rgb_to_y(clean)
    free = np.abs(y_rain - y_clean) < RAIN_FREE_Y
    return {
        "psnr_y": psnr_y(y_out, y_clean),
        "shift_y": float((y_out - y_clean).mean()),
        "free_psnr_y": psnr_y(y_out[free], y_clean[free]),
        "block_shift_y": darkest_block_shift(y_out - y_clean, free),
    }


def _cell(scores: dict[str, float]) -> str:
    return (
        f"{scores['psnr_y']:.2f} / {scores['shift_y']:+.1f} / {scores['free_psnr_y']:.1f} "
        f"/ {scores['block_shift_y']:+.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="php,fastnet,baseline", help="bundled models, comma-separated")
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE: also score these weights")
    parser.add_argument("--set", type=Path, default=RAIN12, help="paired folder (rain/ + clean/)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not args.set.is_dir():
        print(f"tone_shift: {args.set} not found (needs ../shared/data)", file=sys.stderr)
        return 1
    torch.set_num_threads(2)
    models, sources = cpu_models(args.models, args.weights)
    rain_dir, clean_dir = find_paired_layout(args.set)
    per_image: dict[str, dict[str, dict[str, float]]] = {}
    for rain_file, clean_file in pair_folders(rain_dir, clean_dir):
        rain, clean = read_rgb(rain_file), read_rgb(clean_file)
        rows = {"identity": score_image(rain, rain, clean)}
        rows |= {label: score_image(np.clip(model(rain), 0, 1), rain, clean) for label, model in models.items()}
        per_image[rain_file.name] = rows
    labels = ["identity", *models]
    header = ["image", *(f"{label} PSNR-Y / ΔY / free / block" for label in labels)]
    table = [[name, *(_cell(r[x]) for x in labels)] for name, r in per_image.items()]
    mean = {
        x: {k: float(np.mean([r[x][k] for r in per_image.values()])) for k in ("psnr_y", "shift_y")} for x in labels
    }
    worst = {x: float(min(r[x]["shift_y"] for r in per_image.values())) for x in labels}
    darkest = {x: float(min(r[x]["block_shift_y"] for r in per_image.values())) for x in labels}
    table.append(["**mean**", *(f"{mean[x]['psnr_y']:.2f} / {mean[x]['shift_y']:+.1f} / — / —" for x in labels)])
    table.append(["**most negative ΔY / block**", *(f"{worst[x]:+.1f} / {darkest[x]:+.1f}" for x in labels)])
    command = "python benchmarks/tone_shift.py --models " + args.models
    command += "" if args.set == RAIN12 else f" --set {args.set}"
    command += "".join(f" --weights {w}" for w in args.weights)
    text = (
        f"# Tone shift on {args.set.name}\n\nPer image: PSNR-Y / mean Y shift against the clean image "
        f"(grey levels, output − clean) / PSNR-Y on rain-free pixels (|Y_rain − Y_clean| < {RAIN_FREE_Y:.1f}) / "
        f"the most negative mean shift of the rain-free pixels in one block of a {BLOCK_GRID} x {BLOCK_GRID} grid "
        "(a regional darkening the whole-image mean hides).\n\n"
        + "\n".join(markdown_table(header, table))
        + f"\n\n`{command}`\n"
    )
    data = {"environment": describe_hardware(torch.device("cpu")), "set": args.set.name, "sources": sources}
    write_results(args.out, f"tone_shift_{args.set.name}", data | {"per_image": per_image, "mean": mean}, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
