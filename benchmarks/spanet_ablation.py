"""Ablations of `spanet` (paper 002): pseudo ground truth vs true pairs, the attention loss, the output form.

Every variant trains ``configs/spanet.yaml`` for the same short budget and is scored in one
``derain bench`` run on held-out synthetic pairs and every development paired set:

* ``synthetic`` -- the recipe as it is (default synthetic mixture, residual output, attention loss);
* ``no_attention_loss`` -- ``attention_weight=0`` (the paper's Table 4 "B_e" row);
* ``release_output`` -- ``residual: false``: the network outputs the clean image directly, as the
  authors' release does (derain's default predicts a residual);
* ``true_pairs`` / ``pseudo_gt_pairs`` -- the paper's section 3 question: static rainy sequences
  rendered from clean photos (``derain synth timelapse``, one real-mix regime per sequence, camera
  noise), each frame paired once with the photo it was rendered from and once with the sequence's
  percentile estimate (``derain pseudo-gt --dataset``). Same frames, same budget: only the target
  differs. How far the estimates are from the truth is written to ``sequences.json``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/spanet_ablation.py --steps 500 --variants true_pairs pseudo_gt_pairs
    -> runs/spanet_ablation/ (sequences, pair folders, training runs),
       benchmarks/results/spanet_ablation/{report.md,report.json,summary.md,sequences.json}
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from _ablation import REPO, Ablation, add_arguments, run
from _results import write_json
from derain.data.io import list_images, read_rgb
from derain.eval.metrics import psnr

RUNS = REPO / "runs" / "spanet_ablation"
SEQUENCE_SOURCE = REPO.parent / "shared" / "data" / "clean" / "CBSD432"
PAIRED = "data.kind=paired_folder"


def _pairs(folder: str) -> list[str]:
    return [PAIRED, f"data.options={{root: {RUNS / folder}, crop: 64, flip: true}}"]


ABLATION = Ablation(
    recipe=REPO / "configs" / "spanet.yaml",
    weights_name="spanet.safetensors",
    variants={
        "synthetic": ["model.config.residual=true", "objective.options.attention_weight=1.0"],
        "no_attention_loss": ["model.config.residual=true", "objective.options.attention_weight=0"],
        "release_output": ["model.config.residual=false", "objective.options.attention_weight=1.0"],
        "true_pairs": [*_pairs("true_pairs"), "model.config.residual=true"],
        "pseudo_gt_pairs": [*_pairs("pseudo_gt_pairs"), "model.config.residual=true"],
    },
)


def derain_cli(*args: str) -> None:
    """Run the real ``derain`` command (what a user runs) and stop on failure."""
    cmd = [sys.executable, "-m", "derain", *args]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "src")})


def prepare_sequence_pairs(scenes: int, frames: int, out: Path) -> None:
    """Render the static sequences, their pseudo-GT pairs and the true pairs of the same frames (once)."""
    sequences, pseudo, true = RUNS / "sequences", RUNS / "pseudo_gt_pairs", RUNS / "true_pairs"
    if not sequences.exists():
        derain_cli(
            *("synth", "timelapse", "--clean", str(SEQUENCE_SOURCE), "--out", str(sequences), "--count", str(scenes)),
            *("--frames", str(frames), "--size", "256", "--preset", "real-mix", "--noise", "0.01", "--seed", "100"),
        )
    if not pseudo.exists():
        derain_cli("pseudo-gt", "--dataset", str(sequences), "-o", str(pseudo))
    if not true.exists():
        tmp = true.with_name(true.name + ".partial")
        (tmp / "rain").mkdir(parents=True, exist_ok=True)
        (tmp / "clean").mkdir(exist_ok=True)
        for frame in list_images(pseudo / "rain"):
            target = tmp / "rain" / frame.name
            if not target.exists():
                os.link(frame, target)
        for scene in sorted(p for p in sequences.iterdir() if p.is_dir()):
            target = tmp / "clean" / f"{scene.name}.png"
            if not target.exists():
                os.link(scene / "clean.png", target)
        tmp.rename(true)
    errors = {}
    for scene in sorted(p for p in sequences.iterdir() if p.is_dir()):
        truth = read_rgb(scene / "clean.png")
        errors[scene.name] = psnr(read_rgb(pseudo / "clean" / f"{scene.name}.png"), truth)
    values = np.array(list(errors.values()))
    summary = {"scenes": len(values), "frames": frames, "pseudo_gt_psnr_y_mean": float(values.mean())}
    summary |= {"pseudo_gt_psnr_y_min": float(values.min()), "per_scene": errors}
    write_json(out / "sequences.json", summary)
    print(f"pseudo ground truth vs the true background: {values.mean():.2f} dB mean, {values.min():.2f} worst")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    results = REPO / "benchmarks" / "results" / "spanet_ablation"
    add_arguments(parser, steps=500, runs=RUNS, out=results, val=REPO / "runs" / "val" / "synth_kodak")
    parser.add_argument("--scenes", type=int, default=100, help="static sequences rendered for the pair variants")
    parser.add_argument("--frames", type=int, default=20, help="frames per sequence")
    args = parser.parse_args()
    if {"true_pairs", "pseudo_gt_pairs"} & set(args.variants or ABLATION.variants):
        prepare_sequence_pairs(args.scenes, args.frames, args.out)
    print(run(ABLATION, args, "spanet ablation"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
