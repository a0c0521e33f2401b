"""Does a model take straight edges for rain? Its error on the vertical and horizontal edges of clean images.

Rain streaks in most training rain fall near vertical, so a derainer can learn that any thin bright
vertical line is rain and wipe window frames and poles off a rain-free photo (docs/quality.md,
"Wind"). Each model derains the ``clean/`` images of the paired sets (as ``clean_passthrough.py``
does); on Y (grey levels) the error is pooled over the image's strongest edges (the top 10 % of
Sobel magnitude), split by orientation: ``vertical`` where |gx| > 2 |gy| (a vertical edge),
``horizontal`` where |gy| > 2 |gx|. A model with no notion of direction has a ratio near 1.

    python benchmarks/edge_damage.py --models fastnet [--weights LABEL=FILE ...] [--sets DIR ...]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import cv2
import numpy as np

from _results import table_report, write_results
from derain.commands._options import parse_weights
from derain.data.io import list_images, read_rgb
from derain.eval.bench import load_models
from derain.eval.metrics import rgb_to_y

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"
#: Share of each image's pixels that count as strong edges (the top of its Sobel magnitude).
EDGE_SHARE = 0.1


def edge_errors(output: np.ndarray, clean: np.ndarray) -> dict[str, tuple[float, int]]:
    """Sum of squared Y errors and pixel count on the vertical and horizontal strong edges of ``clean``."""
    y_clean = rgb_to_y(clean)
    error = rgb_to_y(output) - y_clean
    gx = cv2.Sobel(y_clean, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(y_clean, cv2.CV_64F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    strong = magnitude > np.quantile(magnitude, 1.0 - EDGE_SHARE)
    masks = {"vertical": strong & (np.abs(gx) > 2 * np.abs(gy)), "horizontal": strong & (np.abs(gy) > 2 * np.abs(gx))}
    return {name: (float((error[m] ** 2).sum()), int(m.sum())) for name, m in masks.items()}


def pooled_rmse(per_image: list[dict[str, tuple[float, int]]]) -> dict[str, float]:
    """RMSE (grey levels) per orientation over every image's edges, and vertical / horizontal."""
    rmse = {}
    for name in ("vertical", "horizontal"):
        total, count = (sum(x) for x in zip(*(image[name] for image in per_image), strict=True))
        rmse[name] = float(np.sqrt(total / count)) if count else float("nan")
    rmse["ratio"] = rmse["vertical"] / rmse["horizontal"] if rmse["horizontal"] > 0 else float("nan")
    return rmse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fastnet", help="bundled models, comma-separated")
    parser.add_argument("--weights", action="append", default=[], metavar="LABEL=FILE", help="extra weights (repeat)")
    parser.add_argument("--sets", type=Path, nargs="+", default=None, help="paired folders (default: the dev sets)")
    parser.add_argument("--name", default="edge_damage", help="stem of the result files")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    sets = args.sets or sorted(p for p in PAIRED.iterdir() if (p / "clean").is_dir())
    for folder in sets:
        if not (folder / "clean").is_dir():
            print(f"edge_damage: {folder}/clean not found", file=sys.stderr)
            return 1
    models = load_models(args.models.split(","), parse_weights(args.weights), device="cpu")
    table: dict[str, dict[str, dict[str, float]]] = {}
    for folder in sets:
        images = [read_rgb(path) for path in list_images(folder / "clean")]
        print(f"edge_damage: {folder.name} ({len(images)} images)", file=sys.stderr)
        table[folder.name] = {m.label: pooled_rmse([edge_errors(m.derainer(x), x) for x in images]) for m in models}
    header = ["set", "model", "RMSE on vertical edges", "RMSE on horizontal edges", "vertical / horizontal"]
    rows = [
        [name, label, f"{r['vertical']:.2f}", f"{r['horizontal']:.2f}", f"{r['ratio']:.2f}"]
        for name, by_model in table.items()
        for label, r in by_model.items()
    ]
    command = "python benchmarks/edge_damage.py " + shlex.join(sys.argv[1:])
    blurb = (
        "Y RMSE in grey levels over the strongest 10 % of each clean image's edges, by orientation"
        " (`benchmarks/edge_damage.py`'s docstring); every model derains the clean image."
    )
    text = table_report("Error on the straight edges of clean images", blurb, header, rows, command)
    write_results(args.out, args.name, {"sets": table}, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
