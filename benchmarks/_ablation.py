"""Equal-budget ablations: train a recipe's variants with several seeds, then score them in one run.

A method's ablation script names its recipe, the weights file the recipe exports and its variants
(``--set`` overrides); this module trains every variant x seed with ``derain train`` (resuming a run
whose folder exists, skipping one whose weights exist), scores all of them with one ``derain bench``
call, and summarises PSNR-Y as mean over seeds +- half-range, so run-to-run noise stands beside the
differences between variants. Short equal budgets make the variants comparable with each other only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from _results import markdown_table, write_markdown

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "data" / "bench" / "paired"


@dataclass(frozen=True)
class Ablation:
    """What one method's ablation trains.

    Attributes:
        recipe: the training config every variant starts from.
        weights_name: file name of the exported weights in each run folder.
        variants: variant name -> ``--set`` overrides on top of ``recipe`` (explicit, so no row
            depends on the recipe's defaults).
    """

    recipe: Path
    weights_name: str
    variants: dict[str, list[str]]


def add_arguments(parser: argparse.ArgumentParser, *, steps: int, runs: Path, out: Path, val: Path | None) -> None:
    """The options every ablation script takes."""
    parser.add_argument("--steps", type=int, default=steps, help="training steps per variant")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed and variant")
    parser.add_argument("--variants", nargs="+", metavar="NAME", help="train and score only these (default: all)")
    parser.add_argument("--runs", type=Path, default=runs, help="training run folders")
    parser.add_argument("--out", type=Path, default=out, help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="training runs side by side")
    parser.add_argument("--bench-root", type=Path, default=BENCH, help="folder of paired development sets")
    parser.add_argument("--val", default=str(val), help="held-out synthetic pairs scored first, or 'none'")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cost-size", type=int, default=512, help="side of the CPU cost measurement")


def main(
    ablation: Ablation, title: str, *, steps: int, seeds: list[int], description: str, name: str | None = None
) -> int:
    """The whole command line of an ablation script without extra options: parse, train, score, print.

    Runs and results go to ``runs/<name>_ablation`` and ``benchmarks/results/<name>_ablation``
    (``name`` defaults to the recipe's stem).
    """
    parser = argparse.ArgumentParser(description=description)
    name = name or ablation.recipe.stem
    val = REPO / "runs" / "val" / "synth_kodak"
    out = REPO / "benchmarks" / "results" / f"{name}_ablation"
    add_arguments(parser, steps=steps, runs=REPO / "runs" / f"{name}_ablation", out=out, val=val)
    parser.set_defaults(seeds=seeds)
    print(run(ablation, parser.parse_args(), title))
    return 0


def train_command(
    ablation: Ablation, variant: str, steps: int, seed: int, runs: Path, extra: list[str]
) -> list[str] | None:
    """The command training one variant with one seed (resuming if its run folder exists); None if done."""
    run_dir = runs / f"{variant}_s{seed}"
    weights = run_dir / ablation.weights_name
    if weights.exists():
        return None
    sets = [
        *ablation.variants[variant],
        *extra,
        f"train.steps={steps}",
        f"train.warmup_steps={max(1, steps // 20)}",
        f"val.every={steps}",
        f"train.ckpt_every={steps}",
        f"output.dir={run_dir}",
        f"output.export.path={weights}",
        f"train.seed={seed}",
        f"data.options.seed={seed}",
    ]
    cmd = [sys.executable, "-m", "derain", "train", str(ablation.recipe)]
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


def _from_repo(path: Path) -> str:
    """``path`` relative to the repository (bench runs there), so reports hold no local absolute paths."""
    return os.path.relpath(path.resolve(), REPO)


def run(ablation: Ablation, args: argparse.Namespace, title: str) -> str:
    """Train every chosen variant x seed, score them all with ``derain bench``, write and return ``summary.md``."""
    variants = args.variants or list(ablation.variants)
    unknown = sorted(set(variants) - set(ablation.variants))
    if unknown:
        raise SystemExit(f"unknown variant {unknown[0]!r}; choose from {', '.join(ablation.variants)}")
    runs = [(name, seed) for name in variants for seed in args.seeds]
    commands = [train_command(ablation, n, args.steps, s, args.runs, args.overrides) for n, s in runs]
    run_all([c for c in commands if c is not None], args.jobs)
    val = [] if args.val == "none" else [Path(args.val)]
    sets = [*val, *sorted(p for p in args.bench_root.iterdir() if p.is_dir())]
    cmd = [sys.executable, "-m", "derain", "bench", "--out", str(args.out), "--cost-runs", "1"]
    cmd += ["--cost-size", str(args.cost_size), "--sets", *map(_from_repo, sets)]
    for name, seed in runs:
        cmd += ["--weights", f"{name}_s{seed}={_from_repo(args.runs / f'{name}_s{seed}' / ablation.weights_name)}"]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    report = json.loads((args.out / "report.json").read_text())
    summary = summarise(report, variants, args.seeds, f"{title}, {args.steps} steps each")
    write_markdown(args.out / "summary.md", summary)
    return summary


def summarise(report: dict, variants: list[str], seeds: list[int], title: str) -> str:
    """Markdown table: per set and variant, PSNR-Y mean over seeds +- half-range (run-to-run noise)."""
    rows = [["identity", *(f"{s['mean']['identity']['psnr_y']:.2f}" for s in report["sets"])]]
    for name in variants:
        cells = []
        for s in report["sets"]:
            values = [s["mean"][f"{name}_s{seed}"]["psnr_y"] for seed in seeds]
            cells.append(f"{sum(values) / len(values):.2f} ± {(max(values) - min(values)) / 2:.2f}")
        rows.append([name, *cells])
    lines = [
        f"# {title}: PSNR-Y, mean over seeds {seeds} +- half-range",
        "",
        *markdown_table(["variant", *(f"{s['name']} ({s['count']})" for s in report["sets"])], rows),
    ]
    return "\n".join(lines) + "\n"
