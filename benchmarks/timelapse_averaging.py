"""Derained single frame vs. temporal mean / median of ``r`` frames (Cho et al. 2020, Sec. IV-C3, Figs. 13-14).

Held-back scenes (Kodak24, never trained on) are rendered as static-camera rainy sequences with
:func:`derain.data.synth.synth_timelapse`, so the clean background is known. For each ``r`` the
temporal mean and median of the first ``r`` frames are scored against it; the network sees only
frame 0. Prints a markdown table (PSNR-Y / SSIM-Y, MATLAB protocol) and writes it with the JSON
(``benchmarks/results/timelapse_averaging.{json,md}``). A perfect reconstruction (the median of
many synthetic frames can be one) has PSNR ``inf``, ``null`` in JSON.

    python benchmarks/timelapse_averaging.py                       # bundled `timelapse` weights
    python benchmarks/timelapse_averaging.py --weights runs/timelapse/export.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import derain
from _results import write_json, write_markdown
from derain.data.io import list_images, read_rgb
from derain.data.synth import synth_timelapse
from derain.eval.metrics import psnr, ssim
from derain.eval.report import jsonable
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCENES = REPO.parent / "shared" / "data" / "clean" / "Kodak24"
FRAME_COUNTS = (2, 4, 8, 16, 30)


def _scores(pred: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    return psnr(pred, clean), ssim(pred, clean)


def _crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    if size > min(h, w):
        raise SystemExit(f"--crop {size} is larger than an image ({h}x{w})")
    y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    return image[y : y + size, x : x + size]


def run(args: argparse.Namespace) -> dict:
    """Score every method on every scene; return the mean scores and the setup."""
    derainer = derain.load(args.weights or "timelapse", device="cpu")
    rng = np.random.default_rng(args.seed)
    paths = list_images(args.scenes)[: args.scenes_count]
    if not paths:
        raise SystemExit(f"{args.scenes}: no images")
    n_frames = max(FRAME_COUNTS)
    rows: dict[str, list[tuple[float, float]]] = {"input (frame 0)": [], "derained (frame 0)": []}
    for r in FRAME_COUNTS:
        rows[f"mean r={r}"], rows[f"median r={r}"] = [], []
    for path in paths:
        clean = _crop(read_rgb(path), args.crop, rng)
        frames = np.stack([f.image for f in synth_timelapse(clean, n_frames, rng, preset=args.preset)])
        rows["input (frame 0)"].append(_scores(frames[0], clean))
        rows["derained (frame 0)"].append(_scores(np.clip(derainer(frames[0]), 0, 1), clean))
        for r in FRAME_COUNTS:
            rows[f"mean r={r}"].append(_scores(frames[:r].mean(0), clean))
            rows[f"median r={r}"].append(_scores(np.median(frames[:r], axis=0), clean))
    results = {
        name: {"psnr_y": float(np.mean([s[0] for s in v])), "ssim_y": float(np.mean([s[1] for s in v]))}
        for name, v in rows.items()
    }
    return {
        "protocol": "PSNR/SSIM on Y (MATLAB rgb2ycbcr), data range 255, Gaussian SSIM sigma 1.5",
        "scenes": str(args.scenes),
        "count": len(paths),
        "crop": args.crop,
        "preset": args.preset,
        "seed": args.seed,
        "weights": args.weights or "timelapse (bundled)",
        "environment": describe_hardware(torch.device("cpu")),
        "results": results,
    }


def markdown(report: dict) -> str:
    """The results as a markdown table."""
    lines = [
        f"Synthetic time-lapse ({report['preset']}), {report['count']} Kodak24 scenes, "
        f"{report['crop']}x{report['crop']} crops; {report['protocol']}.",
        "",
        "| method | PSNR-Y | SSIM-Y |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} |" for name, s in report["results"].items()]
    lines += ["", "(written by `python benchmarks/timelapse_averaging.py`; JSON beside this file)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table, write the JSON and the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="a .safetensors file (default: the bundled `timelapse` weights)")
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="folder of clean held-out photos")
    parser.add_argument("--scenes-count", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "timelapse_averaging.json", help="JSON (+ .md)"
    )
    args = parser.parse_args(argv)
    report = run(args)
    table = markdown(report)
    print(table)
    json_path = write_json(args.out, jsonable(report))  # inf (an exact median) -> null: strict JSON
    md_path = write_markdown(args.out.with_suffix(".md"), table)
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
