"""Quality per training CPU-second: train one model for a fixed CPU budget, then score held-out pairs.

Used to pick the default model and its crop / batch / learning rate (docs/methods/fastnet.md).
Everything runs in this process on one thread (data rendering included), and the budget is this
process's CPU time, so runs are comparable while other jobs share the machine. The schedule is a
linear warm-up then cosine decay over the budget, like the training recipes.

    OMP_NUM_THREADS=1 python benchmarks/cpu_budget.py --model fastnet --budget 240 --lr 1e-3 \\
        --val runs/val/synth_kodak runs/val/kodak_heavy --out runs/cpu_budget.jsonl

Validation folders are made with ``make val-data`` and ``derain synth pairs`` (see the method page).
Appends one JSON line per run to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from derain.data.datasets import build_dataset
from derain.models import build_model
from derain.train.objectives import OBJECTIVES
from derain.train.trainer import validate

DATA = {
    "clean_dir": "../shared/data/clean",
    "exclude": ["Kodak24"],
    "flip": True,
    "length": 100_000,
    "preset": ["light", "medium", "heavy", "rain100l-like", "rain100h-like", "broad"],
    "composition": ["additive", "screen"],
    "seed": 0,
}


def run(args: argparse.Namespace) -> dict:
    """Train for ``args.budget`` CPU-seconds and return the scores."""
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    model = build_model(args.model, yaml.safe_load(args.config) or {})
    objective = OBJECTIVES.get("supervised")(l1_weight=1.0, ssim_weight=args.ssim)
    data = build_dataset("synthetic_pairs", **{**DATA, "crop": args.crop, "preset": args.preset or DATA["preset"]})
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.0)
    order = np.random.default_rng(args.seed).permutation(len(data))
    start, step, warmup = time.process_time(), 0, 20
    while (used := time.process_time() - start) < args.budget:
        t = used / args.budget
        factor = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * t))
        for group in opt.param_groups:
            group["lr"] = args.lr * max(factor, 1e-3)
        idx = order[step * args.batch : (step + 1) * args.batch]
        items = [data[int(i)] for i in idx]
        batch = {k: torch.stack([it[k] for it in items]) for k in ("rain", "clean")}
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss, _ = objective(model, batch, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
    cpu_s = time.process_time() - start
    scores = {Path(v).name: validate(model, v, torch.device("cpu"), None)["psnr_y"] for v in args.val}
    return {
        "model": args.model,
        "config": args.config,
        "crop": args.crop,
        "batch": args.batch,
        "lr": args.lr,
        "bf16": args.bf16,
        "ssim": args.ssim,
        "steps": step,
        "cpu_s": round(cpu_s, 1),
        "ms_per_step": round(1000 * cpu_s / step, 1),
        "psnr_y": {k: round(v, 2) for k, v in scores.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="fastnet")
    parser.add_argument("--config", default="{}", help="model config overrides as YAML, e.g. '{width: 32}'")
    parser.add_argument("--budget", type=float, default=240.0, help="training CPU-seconds")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ssim", type=float, default=0.1)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast on the CPU")
    parser.add_argument("--preset", nargs="*", help="rain presets (default: the heavy mixture of the recipes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val", nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result), flush=True)
    with args.out.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
