"""Run several ``derain train`` recipes side by side on one GPU within a wall-clock budget.

Why: a lent GPU comes for minutes, so the step count that fits is unknown until measured there. The
script (1) runs every recipe for ``--calibrate`` seconds and reads their step rate from log.jsonl,
(2) restarts them fresh with the step count that fits the remaining budget (a full cosine schedule),
(3) stops any run still going at the deadline, and (4) writes each run's final weights (EMA ones
with ``train.ema``) and its latest checkpoints' weights as .safetensors, plus its log, to ``--out``.

    python scripts/device/legs.py --budget 480 --out $OUT RUN=CONFIG.yaml [RUN=CONFIG.yaml ...] -- --set K=V ...

Everything after ``--`` is passed to every ``derain train`` call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch


def launch(name: str, config: str, steps: int, workdir: Path, extra: list[str]) -> subprocess.Popen:
    run_dir = workdir / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "derain",
        "train",
        config,
        *extra,
        "--set",
        f"train.steps={steps}",
        "--set",
        f"output.dir={run_dir}/run",
        "--set",
        f"output.export.path={run_dir}/export/{name}.safetensors",
    ]
    print(" ".join(cmd), flush=True)
    with open(run_dir / "train.log", "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def step_rate(log: Path) -> float:
    """Steps per second between the first and last logged step (the start-up excluded)."""
    if not log.exists():
        return 0.0
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "step" in r and "time" in r]
    if len(rows) < 2:
        return 0.0
    return (rows[-1]["step"] - rows[0]["step"]) / max(rows[-1]["time"] - rows[0]["time"], 1e-6)


def export_weights(name: str, run_dir: Path, out: Path) -> None:
    """The final export and the checkpoint nearest half the run as weights files (EMA ones when present)."""
    from derain.checkpoint import save_weights
    from derain.models import build_model

    export = run_dir / "export" / f"{name}.safetensors"
    if export.exists():
        shutil.copy(export, out / f"{name}_final.safetensors")
        manifest = run_dir / "export" / "manifest.json"
        if manifest.exists():
            shutil.copy(manifest, out / f"{name}_manifest.json")
    ckpts = {int(c.stem.split("_")[1]): c for c in (run_dir / "run" / "checkpoints").glob("step_*.pt")}
    if ckpts:
        ckpt = ckpts[min(ckpts, key=lambda step: abs(step - max(ckpts) / 2))]
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        model_cfg = state["config"]["model"]
        model = build_model(model_cfg["name"], model_cfg["config"])
        model.load_state_dict(state["ema"]["model"] if state.get("ema") else state["model"])
        save_weights(
            model,
            out / f"{name}_{ckpt.stem}.safetensors",
            model_name=model_cfg["name"],
            config=dict(model_cfg["config"]),
        )
    log = run_dir / "run" / "log.jsonl"
    if log.exists():
        shutil.copy(log, out / f"{name}_log.jsonl")


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", metavar="RUN=CONFIG")
    parser.add_argument("--budget", type=float, required=True, help="seconds for everything, export included")
    parser.add_argument("--calibrate", type=float, default=60.0)
    parser.add_argument("--reserve", type=float, default=45.0, help="seconds kept for start-up and export")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("runs/gpu"))
    args = parser.parse_args(argv)
    start = time.monotonic()
    runs = dict(item.split("=", 1) for item in args.runs)
    args.out.mkdir(parents=True, exist_ok=True)

    procs = {n: launch(n, c, 10**6, args.workdir / "calib", extra) for n, c in runs.items()}
    time.sleep(args.calibrate)
    for proc in procs.values():
        stop(proc)
    rates = {n: step_rate(args.workdir / "calib" / n / "run" / "log.jsonl") for n in runs}
    print("calibration steps/s:", rates, flush=True)
    if not all(rates.values()):
        for n in runs:
            print(n, (args.workdir / "calib" / n / "train.log").read_text()[-3000:], flush=True)
        sys.exit("a run did not train during calibration")
    left = args.budget - (time.monotonic() - start) - args.reserve
    steps = {n: max(100, int(r * left * 0.93) // 100 * 100) for n, r in rates.items()}
    print("steps:", steps, "for", round(left), "s", flush=True)

    procs = {n: launch(n, c, steps[n], args.workdir, extra) for n, c in runs.items()}
    deadline = start + args.budget - 25
    while time.monotonic() < deadline and any(p.poll() is None for p in procs.values()):
        time.sleep(2)
    for name, proc in procs.items():
        if proc.poll() is None:
            print(f"{name}: stopped at the deadline", flush=True)
            stop(proc)
        print(name, "exit", proc.returncode, flush=True)
        print((args.workdir / name / "train.log").read_text()[-1500:], flush=True)
        export_weights(name, args.workdir / name, args.out)
    print("total", round(time.monotonic() - start), "s", flush=True)


if __name__ == "__main__":
    main()
