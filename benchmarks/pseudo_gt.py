"""How close do the percentile method, the temporal median and the temporal mean come to a known background?

Synthetic static sequences: scenes from ``../shared/data/clean/Kodak24`` (``--scenes``, cropped to
256 x 384), camera noise sigma 0.01 on every frame (without noise the median of light rain is exact
and every method ties), and three kinds of rain:

* ``light``: the ``light`` preset, one regime per sequence;
* ``heavy``: the ``heavy`` preset;
* ``veiled``: the ``medium`` preset plus a haze of strength drawn per frame in [0.1, 0.4] -- drifting
  mist, the paper's failure case (a veil present in every frame cannot be removed by any of them).

For each scene and rain one 100-frame sequence is rendered; N = 10, 20, 50, 100 use its first N
frames. Scores are PSNR-Y / SSIM-Y (the field protocol) against the noise-free background, mean over
scenes. Writes ``benchmarks/results/pseudo_gt.{json,md}``.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/pseudo_gt.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from _results import markdown_table, write_results
from derain.data.io import list_images, read_rgb
from derain.data.pseudo_gt import METHODS, PseudoGTOptions, estimate_background
from derain.data.synth import add_rain, synth_timelapse
from derain.eval.metrics import psnr, ssim

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLEAN = ROOT.parent / "shared" / "data" / "clean" / "Kodak24"
RAINS = ("light", "heavy", "veiled")
COUNTS = (10, 20, 50, 100)
NOISE = 0.01


def render(background: np.ndarray, rain: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, H, W, 3)`` uint8 rainy frames of a static scene."""
    if rain == "veiled":
        frames = [add_rain(background, "medium", rng, haze=float(rng.uniform(0.1, 0.4))).image for _ in range(n)]
        frames = [f + rng.normal(0, NOISE, f.shape).astype(np.float32) for f in frames]
    else:
        frames = [c.image for c in synth_timelapse(background, n, rng, preset=rain, noise_sigma=NOISE)]
    return np.stack([np.round(np.clip(f, 0, 1) * 255).astype(np.uint8) for f in frames])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    paths = list_images(CLEAN)[: args.scenes]
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    for path in paths:
        background = read_rgb(path)[:256, :384]
        for rain in RAINS:
            frames = render(background, rain, max(COUNTS), rng)
            cell = scores.setdefault(rain, {})
            row = cell.setdefault("input (frame 1)", {})
            row.setdefault("all", []).append((psnr(frames[0] / 255.0, background), ssim(frames[0] / 255.0, background)))
            for n in COUNTS:
                for method in METHODS:
                    clean = estimate_background(frames[:n], PseudoGTOptions(method=method)).clean
                    cell.setdefault(method, {}).setdefault(str(n), []).append(
                        (psnr(clean, background), ssim(clean, background))
                    )
            print(f"{path.name} {rain} done", flush=True)
    result = {
        "scenes": [p.name for p in paths],
        "noise_sigma": NOISE,
        "counts": list(COUNTS),
        "mean": {
            rain: {method: {n: np.mean(v, axis=0).tolist() for n, v in rows.items()} for method, rows in cell.items()}
            for rain, cell in scores.items()
        },
    }
    write_results(RESULTS, "pseudo_gt", result, markdown(result))


def markdown(result: dict) -> str:
    """One table per rain kind: methods x N."""
    lines = [
        "# Pseudo ground truth from static rainy sequences: percentile vs median vs mean",
        "",
        f"PSNR-Y / SSIM-Y against the known background, mean over {len(result['scenes'])} Kodak24 scenes "
        f"(256 x 384 crops), camera noise sigma {result['noise_sigma']}; N = first N frames of one 100-frame "
        "sequence per scene. Regenerate: `PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/pseudo_gt.py`.",
    ]
    counts = result["counts"]
    for rain, cell in result["mean"].items():
        first = cell["input (frame 1)"]["all"]
        rows = [["input (frame 1)", *(f"{first[0]:.2f} / {first[1]:.4f}" for _ in counts)]]
        for method in METHODS:
            row = cell[method]
            rows.append([method, *(f"{row[str(n)][0]:.2f} / {row[str(n)][1]:.4f}" for n in counts)])
        lines += ["", f"## {rain}", "", *markdown_table(["method", *(f"N={n}" for n in counts)], rows)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
