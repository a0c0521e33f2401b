"""How much does tiling change spanet's output? Untiled vs the engine's tiles on one 2000 x 1500 photo.

The IRNN spreads information along whole rows and columns, so unlike the U-Nets a tiled run cannot
equal an untiled one. This script runs the bundled (or ``--weights``) spanet on a real rainy photo
from the development benchmark, resized to 2000 x 1500, once untiled and once in the engine's
default tiles, and reports their difference (max / mean absolute, PSNR of one against the other),
CPU time and peak RSS of each (each run in a fresh process). Writes ``benchmarks/results/spanet_tiling.{json,md}``.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/spanet_tiling.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import write_results
from derain.eval.metrics import psnr_from_mse

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PHOTO = ROOT.parent / "shared" / "data" / "bench" / "real" / "internet20" / "rain"
SIZE = (1500, 2000)  # H, W


def worker(weights: str, tile: int, out: Path) -> None:
    """One run in this process; saves the output array and prints time and peak RSS as JSON."""
    import cv2
    import torch

    from derain.api import load
    from derain.data.io import list_images, read_rgb

    torch.set_num_threads(1)
    photo = list_images(PHOTO)[0]
    rgb = cv2.resize(read_rgb(photo), SIZE[::-1], interpolation=cv2.INTER_AREA)
    derainer = load(weights, "cpu", tile=tile)
    start = time.process_time()
    result = derainer(rgb)
    seconds = time.process_time() - start
    np.save(out, result)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"photo": photo.name, "cpu_s": seconds, "peak_rss_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="spanet", help="model name (bundled weights) or .safetensors file")
    parser.add_argument("--tile", type=int, default=512, help="tile side of the tiled run")
    parser.add_argument("--worker", nargs=2, metavar=("TILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.weights, int(args.worker[0]), Path(args.worker[1]))
        return
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, tile in (("untiled", 0), ("tiled", args.tile)):
            out = Path(tmp) / f"{label}.npy"
            cmd = [sys.executable, __file__, "--weights", args.weights, "--worker", str(tile), str(out)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs[label] = {**json.loads(done.stdout.strip().splitlines()[-1]), "tile": tile}
            runs[label]["image"] = np.load(out)
    diff = np.abs(runs["tiled"].pop("image") - runs["untiled"].pop("image"))
    mse = float(np.mean(diff**2))
    result = {
        "size": list(SIZE),
        "weights": args.weights,
        "runs": runs,
        "max_abs": float(diff.max()),
        "mean_abs": float(diff.mean()),
        "psnr_rgb_db": psnr_from_mse(mse, data_range=1.0),
        "share_over_1_255": float((diff > 1 / 255).mean()),
    }
    write_results(RESULTS, "spanet_tiling", result, markdown(result))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))


def markdown(result: dict) -> str:
    """The report."""
    u, t = result["runs"]["untiled"], result["runs"]["tiled"]
    return (
        f"# spanet: tiled vs untiled on a {SIZE[1]} x {SIZE[0]} photo ({u['photo']}, resized)\n\n"
        f"Weights `{result['weights']}`, CPU, one thread. Regenerate: `python benchmarks/spanet_tiling.py`.\n\n"
        "| run | CPU s | peak RSS (MiB) |\n|---|---|---|\n"
        f"| untiled | {u['cpu_s']:.1f} | {u['peak_rss_mib']:.0f} |\n"
        f"| tiles of at most {t['tile']} px | {t['cpu_s']:.1f} | {t['peak_rss_mib']:.0f} |\n\n"
        f"Tiled vs untiled output: max |diff| {result['max_abs']:.4f}, mean |diff| {result['mean_abs']:.5f}, "
        f"PSNR {result['psnr_rgb_db']:.2f} dB, {100 * result['share_over_1_255']:.2f} % of values differ by more "
        "than one 8-bit level.\n"
    )


if __name__ == "__main__":
    main()
