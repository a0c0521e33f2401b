"""What ``derain adapt`` buys a camera owner: derain new frames of a fixed camera before and after adapting.

Held-out scenes (Kodak24, never trained on) play fixed cameras: each is rendered as a static rainy
sequence (:func:`derain.data.synth.synth_timelapse`, one rain regime per scene, ``--preset``,
default ``broad``: wide blurry rain that no bundled recipe trains on). The first ``--train-frames``
frames of every scene are written as rainy-only footage and go through the real ``derain adapt``
command; the remaining ``--test-frames`` frames of the same scenes (new rain, same camera) are
derained by the bundled and by the adapted weights and scored against the known background
(PSNR-Y / SSIM-Y, MATLAB protocol). Writes ``benchmarks/results/adapt_gain.{json,md}``.

    .venv/bin/python benchmarks/adapt_gain.py                       # memory, 300 steps
    .venv/bin/python benchmarks/adapt_gain.py --model timelapse --preset heavy
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import derain
from _results import write_results
from derain.data.io import list_images, read_rgb, write_image
from derain.data.synth import synth_timelapse
from derain.eval.metrics import PROTOCOL, psnr, ssim

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCENES = REPO.parent / "shared" / "data" / "clean" / "Kodak24"
RESULTS = REPO / "benchmarks" / "results"


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    if size > min(h, w):
        raise SystemExit(f"--crop {size} is larger than an image ({h}x{w})")
    y, x = (h - size) // 2, (w - size) // 2
    return image[y : y + size, x : x + size]


def _render(args: argparse.Namespace, footage: Path) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Write each scene's training frames under ``footage``; return ``(background, test frames)`` per scene."""
    rng = np.random.default_rng(args.seed)
    paths = list_images(args.scenes)[-args.scenes_count :]
    if not paths:
        raise SystemExit(f"{args.scenes}: no images")
    held_out = []
    for path in paths:
        clean = _centre_crop(read_rgb(path), args.crop)
        frames = [
            f.image for f in synth_timelapse(clean, args.train_frames + args.test_frames, rng, preset=args.preset)
        ]
        for i, frame in enumerate(frames[: args.train_frames]):
            write_image(footage / path.stem / f"{i:03d}.png", frame)
        held_out.append((clean, frames[args.train_frames :]))
    return held_out


def _mean_scores(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean PSNR-Y / SSIM-Y of ``(output, background)`` pairs, outputs quantised like saved files."""
    scores = [(psnr(out, clean, quantize=True), ssim(out, clean, quantize=True)) for out, clean in pairs]
    return {"psnr_y": float(np.mean([s[0] for s in scores])), "ssim_y": float(np.mean([s[1] for s in scores]))}


def _score(weights: str | Path, held_out: list[tuple[np.ndarray, list[np.ndarray]]]) -> dict[str, float]:
    derainer = derain.load(weights, device="cpu")
    return _mean_scores([(derainer(frame), clean) for clean, frames in held_out for frame in frames])


def _input_scores(held_out: list[tuple[np.ndarray, list[np.ndarray]]]) -> dict[str, float]:
    return _mean_scores([(frame, clean) for clean, frames in held_out for frame in frames])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="memory", help="memory or timelapse")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--preset", default="broad", help="rain of the simulated cameras")
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="held-out clean photos")
    parser.add_argument("--scenes-count", type=int, default=4, help="cameras (the last N photos)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--train-frames", type=int, default=24)
    parser.add_argument("--test-frames", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="adapt_gain_") as tmp:
        footage, weights = Path(tmp) / "footage", Path(tmp) / "adapted.safetensors"
        held_out = _render(args, footage)
        adapt = [sys.executable, "-m", "derain", "adapt", str(footage), "-o", str(weights)]
        adapt += ["--model", args.model, "--steps", str(args.steps), "--device", "cpu"]
        start = time.perf_counter()
        subprocess.run(adapt, check=True, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        adapt_s = time.perf_counter() - start
        rows = {"input": _input_scores(held_out), f"{args.model} (bundled)": _score(args.model, held_out)}
        rows[f"{args.model} (adapted, {args.steps} steps)"] = _score(weights, held_out)
    report = {
        "protocol": PROTOCOL,
        "command": shlex.join(["python", "benchmarks/adapt_gain.py", *sys.argv[1:]]),
        "setup": {k: str(v) for k, v in vars(args).items() if k != "out"},
        "adapt_wall_s": round(adapt_s, 1),
        "threads": os.environ.get("OMP_NUM_THREADS", "1"),
        "results": rows,
    }
    lines = [
        f"`derain adapt` on {args.scenes_count} simulated fixed cameras ({args.preset} rain, {args.crop}² crops of "
        f"the last Kodak24 photos): {args.train_frames} rainy frames each to adapt on, scored on "
        f"{args.test_frames} new frames each against the known background. Adapting took "
        f"{adapt_s / 60:.1f} min on {report['threads']} CPU thread(s). Command: `{report['command']}`.",
        "",
        "| weights | PSNR-Y | SSIM-Y |",
        "|---|---|---|",
        *(f"| {name} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} |" for name, s in rows.items()),
    ]
    write_results(args.out, f"adapt_gain_{args.model}_{args.preset}", report, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
