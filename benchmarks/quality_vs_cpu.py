"""Quality against training CPU-hours: a run's kept checkpoints scored on the development paired sets.

    python benchmarks/quality_vs_cpu.py runs/fastnet/keep --cpu-log runs/fastnet/cpu.log \\
        --out benchmarks/results/quality_vs_cpu_fastnet

Each ``step_*.pt`` that ``derain train`` wrote (its EMA weights when the run kept them) becomes a
weights file and is scored with ``derain bench``'s code: README's protocol, the engine's 512 px
tiles. ``--cpu-log`` lines read ``unix_time step cpu_seconds``: the trainer and its data worker,
sampled while it trained (``utime + stime`` from ``/proc``, so they hold on a shared machine); a
checkpoint's CPU time is interpolated at its step. Without it the column stays empty.
Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from _results import markdown_table, write_results
from derain.checkpoint import save_weights
from derain.errors import DerainError
from derain.eval.bench import load_models, run_bench, set_name
from derain.models import build_model

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "data" / "bench"


def checkpoint_weights(ckpt_path: Path, out: Path) -> tuple[int, Path]:
    """``(step, weights file)`` of one training checkpoint."""
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    model_cfg = ckpt["config"]["model"]
    model = build_model(model_cfg["name"], model_cfg.get("config") or {})
    ema = ckpt.get("ema")
    model.load_state_dict(ema["model"] if ema else ckpt["model"])
    path = save_weights(
        model, out / f"{ckpt_path.stem}.safetensors", model_name=model_cfg["name"], config=model_cfg.get("config") or {}
    )
    return int(ckpt["step"]), path


def cpu_seconds_at(cpu_log: Path | None, step: int) -> float | None:
    """The trainer's CPU seconds when it reached ``step`` (linear between samples; the process starts at 0, 0)."""
    if cpu_log is None:
        return None
    samples = [[float(v) for v in line.split()[1:3]] for line in cpu_log.read_text().splitlines() if line]
    rows = np.array([[0.0, 0.0], *samples])
    if step > rows[:, 0].max():
        return None
    return float(np.interp(step, rows[:, 0], rows[:, 1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, help="folder of step_*.pt from derain train")
    parser.add_argument("--cpu-log", type=Path, help="'unix_time step cpu_seconds' lines sampled during training")
    parser.add_argument("--data", type=Path, default=BENCH, help="benchmark root (its paired/ sets are scored)")
    parser.add_argument("--out", type=Path, required=True, help="report path without suffix")
    args = parser.parse_args()

    files = sorted(args.checkpoints.glob("step_*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    if not files:
        sys.exit(f"quality_vs_cpu.py: no step_*.pt in {args.checkpoints}")
    sets = sorted(p for p in (args.data / "paired").iterdir() if p.is_dir())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for file in files:
            step, weights = checkpoint_weights(file, Path(tmp))
            models = load_models([], {file.stem: weights}, device="cpu")
            report = run_bench(models, sets, Path(tmp) / "report", cost_runs=1)
            scores = {s["name"]: s["mean"][file.stem] for s in report["sets"]}
            cpu = cpu_seconds_at(args.cpu_log, step)
            rows.append({"step": step, "cpu_hours": None if cpu is None else cpu / 3600, "scores": scores})
            print(f"step {step}: " + ", ".join(f"{k} {v['psnr_y']:.2f}" for k, v in scores.items()), file=sys.stderr)
    names = [set_name(s) for s in sets]
    cells = [
        [
            row["step"],
            "" if row["cpu_hours"] is None else f"{row['cpu_hours']:.2f}",
            *(f"{row['scores'][n]['psnr_y']:.2f} / {row['scores'][n]['ssim_y']:.4f}" for n in names),
        ]
        for row in rows
    ]
    table = "\n".join(markdown_table(["step", "CPU-hours", *names], cells))
    report = {"checkpoints": str(args.checkpoints), "rows": rows}
    write_results(args.out.parent, args.out.name, report, "PSNR-Y / SSIM-Y per development set\n\n" + table)
    print(table)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DerainError as exc:
        sys.exit(f"quality_vs_cpu.py: {exc}")
