"""Ablation of the `memory` method (paper 001, Tables IV-V): with/without the memory, with/without BSW.

Trains each variant with the bundled recipe (`configs/memory.yaml`) for the same, short budget, then
scores all of them with `derain bench` on held-out synthetic pairs (`runs/val/synth_kodak`, rendered
from Kodak24, which training excludes) and on every development paired set. Equal budgets make the
variants comparable with each other; they are shorter than the bundled run, so compare rows within
this table only.

Each variant is trained with every seed in ``--seeds`` (model init, data order and rain all
follow the seed), so the table shows run-to-run noise beside the differences between variants:
``summary.md`` gives, per set, the mean over seeds and the half-range (max - min) / 2.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/memory_ablation.py --steps 1200 --seeds 0 1
    -> runs/ablation/<variant>_s<seed>/ (training runs),
       benchmarks/results/memory_ablation/{report.md,report.json,summary.md}

On a GPU machine the runs can go side by side (``--jobs 6``), with the data paths moved by
``--set`` (given to every training run), other development sets (``--bench-root``) and no
synthetic validation set (``--val none``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _results import markdown_table, write_markdown

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "data" / "bench" / "paired"
VAL = REPO / "runs" / "val" / "synth_kodak"

#: variant -> `--set` overrides on top of configs/memory.yaml (explicit, so no row depends on the recipe's
#: defaults; until BSW was switched off in the recipe, ``memory_bsw`` was called ``memory_full``).
VARIANTS: dict[str, list[str]] = {
    "memory_bsw": ["objective.options.lambda_w=0.01"],
    "memory_no_bsw": ["objective.options.lambda_w=0"],
    "encdec_no_memory_no_bsw": ["model.config.use_memory=false", "objective.options.lambda_w=0"],
}


def train_command(variant: str, overrides: list[str], steps: int, seed: int, runs: Path) -> list[str] | None:
    """The command training one variant with one seed (resuming if its run folder exists); None if done."""
    run_dir = runs / f"{variant}_s{seed}"
    weights = run_dir / "memory.safetensors"
    if weights.exists():
        return None
    sets = [
        f"train.steps={steps}",
        f"train.warmup_steps={max(1, steps // 20)}",
        f"val.every={steps}",
        f"train.ckpt_every={steps}",
        f"output.dir={run_dir}",
        f"output.export.path={weights}",
        f"train.seed={seed}",
        f"data.options.seed={seed}",
        *overrides,
    ]
    cmd = [sys.executable, "-m", "derain", "train", str(REPO / "configs" / "memory.yaml")]
    for item in sets:
        cmd += ["--set", item]
    if run_dir.exists():
        cmd.append("--resume")
    return cmd


def run_all(commands: list[list[str]], jobs: int) -> None:
    """Run the commands, ``jobs`` at a time; raise if any fails."""
    pending, running = list(commands), []
    while pending or running:
        while pending and len(running) < jobs:
            print(" ".join(pending[0]), flush=True)
            running.append(subprocess.Popen(pending.pop(0), cwd=REPO))
        finished = running.pop(0)
        if finished.wait() != 0:
            raise subprocess.CalledProcessError(finished.returncode, finished.args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps per variant")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="one run per seed and variant")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "ablation")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "memory_ablation")
    parser.add_argument("--jobs", type=int, default=1, help="training runs side by side")
    parser.add_argument("--bench-root", type=Path, default=BENCH, help="folder of paired development sets")
    parser.add_argument("--val", default=str(VAL), help="held-out synthetic pairs scored first, or 'none'")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cost-size", type=int, default=512, help="side of the CPU cost measurement")
    args = parser.parse_args()

    runs = [(name, overrides, seed) for name, overrides in VARIANTS.items() for seed in args.seeds]
    commands = [train_command(n, [*o, *args.overrides], args.steps, s, args.runs) for n, o, s in runs]
    run_all([c for c in commands if c is not None], args.jobs)
    weights = {f"{n}_s{s}": args.runs / f"{n}_s{s}" / "memory.safetensors" for n, _, s in runs}
    val = [] if args.val == "none" else [Path(args.val)]
    sets = [*val, *sorted(p for p in args.bench_root.iterdir() if p.is_dir())]
    cmd = [
        sys.executable,
        "-m",
        "derain",
        "bench",
        "--out",
        str(args.out),
        "--cost-runs",
        "1",
        "--cost-size",
        str(args.cost_size),
        "--sets",
        *map(str, sets),
    ]
    for label, path in weights.items():
        cmd += ["--weights", f"{label}={path}"]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    summary = summarise(json.loads((args.out / "report.json").read_text()), args.seeds, args.steps)
    write_markdown(args.out / "summary.md", summary)
    print(summary)
    return 0


def summarise(report: dict, seeds: list[int], steps: int) -> str:
    """Markdown table: per set and variant, PSNR-Y mean over seeds +- half-range (run-to-run noise)."""
    rows = [["identity", *(f"{s['mean']['identity']['psnr_y']:.2f}" for s in report["sets"])]]
    for name in VARIANTS:
        cells = []
        for s in report["sets"]:
            values = [s["mean"][f"{name}_s{seed}"]["psnr_y"] for seed in seeds]
            cells.append(f"{sum(values) / len(values):.2f} ± {(max(values) - min(values)) / 2:.2f}")
        rows.append([name, *cells])
    lines = [
        f"# memory ablation: PSNR-Y, mean over seeds {seeds} +- half-range, {steps} steps each",
        "",
        *markdown_table(["variant", *(f"{s['name']} ({s['count']})" for s in report["sets"])], rows),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
