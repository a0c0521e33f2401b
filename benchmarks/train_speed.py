"""Training speed per model on this CPU: samples per CPU-second and the share of each step spent waiting for data.

Each bundled recipe (``configs/<model>.yaml``) is built by the real trainer (its dataset, batch stream,
DataLoader workers and optimiser step), then ``--steps`` steps are timed after ``--warmup`` steps:

* ``wait``: wall time of fetching the next batch (zero when the workers kept up);
* ``step``: wall time of forward, backward and the optimiser step;
* CPU-seconds of the trainer process and of its data workers (from ``/proc``), so the per-core rate
  does not depend on how busy the shared machine was: ``samples / (trainer + worker CPU-seconds)``.

``--amp bf16`` times the step under CPU bf16 autocast, the way the trainer would run it on CUDA
(the trainer itself runs CPUs in float32); ``--layout contiguous channels_last`` times both memory
formats (default: the recipe's ``train.channels_last``).
Writes ``benchmarks/results/train_speed.md`` (and ``.json``)::

    OMP_NUM_THREADS=1 python benchmarks/train_speed.py --models baseline timelapse memory fastnet
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from _results import write_json, write_markdown
from derain.hardware import cpu_model
from derain.train.config import load_config
from derain.train.distributed import init_distributed
from derain.train.trainer import _Run

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU-seconds of one process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _worker_pids(run: _Run) -> list[int]:
    it = run.stream._iter
    return [w.pid for w in getattr(it, "_workers", [])] if it is not None else []


def measure(model: str, workers: int, amp: str, layout: str, steps: int, warmup: int) -> dict:
    """Time ``steps`` training steps of ``configs/<model>.yaml`` with ``workers`` data workers."""
    with tempfile.TemporaryDirectory() as tmp:
        overrides = ["val=null", "output.export=null", f"output.dir={tmp}/run", "train.device=cpu"]
        overrides += [f"train.num_workers={workers}", f"train.steps={warmup + steps}"]
        if layout != "recipe":
            overrides += [f"train.channels_last={layout == 'channels_last'}"]
        config = load_config(REPO / "configs" / f"{model}.yaml", overrides)
        env = init_distributed("cpu")
        run = _Run(config, env, "train_speed", None)
        waits, times = [], []
        for i in range(warmup + steps):
            if i == warmup:
                pids = _worker_pids(run)
                cpu0 = time.process_time(), [_cpu_seconds(p) for p in pids]
            t0 = time.perf_counter()
            batch = run.next_batch()
            t1 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
                run._optimise(batch, i / (warmup + steps))
            t2 = time.perf_counter()
            if i >= warmup:
                waits.append(t1 - t0)
                times.append(t2 - t1)
        trainer_cpu = time.process_time() - cpu0[0]
        worker_cpu = sum(_cpu_seconds(p) - c for p, c in zip(pids, cpu0[1], strict=True))
        samples = steps * config.train.batch_size
        total = sum(waits) + sum(times)
        return {
            "model": model,
            "batch": config.train.batch_size,
            "crop": config.data.options.get("crop"),
            "data": config.data.kind,
            "workers": workers,
            "amp": amp,
            "layout": "channels_last" if config.train.channels_last else "contiguous",
            "threads": torch.get_num_threads(),
            "step_ms": round(1000 * statistics.median(times), 1),
            "wait_ms": round(1000 * statistics.median(waits), 1),
            "wait_share": round(sum(waits) / total, 3),
            "samples_per_s": round(samples / total, 2),
            "trainer_cpu_s": round(trainer_cpu, 1),
            "worker_cpu_s": round(worker_cpu, 1),
            "samples_per_cpu_s": round(samples / (trainer_cpu + worker_cpu), 2),
            "load_avg": round(os.getloadavg()[0], 1),
        }


def write_report(rows: list[dict], path: Path) -> None:
    """Markdown table + raw JSON next to it (both written atomically)."""
    lines = [
        "# Training speed on the CPU",
        "",
        f"`python benchmarks/train_speed.py` on {cpu_model()} ({os.cpu_count()} cores, torch {torch.__version__});",
        "each row's options are its columns (`--models M --workers W --amp P --layout L`; `--append` adds rows).",
        "One trainer thread (`OMP_NUM_THREADS=1`); `workers` DataLoader processes render the synthetic data.",
        "`wait` is the time the trainer waited for the next batch. `CPU-ms/step` (trainer process) and",
        "`samples/CPU-s` (trainer + workers) count CPU time, so they hold on a busy machine; `step ms`,",
        "`wait ms` and `samples/s` are wall-clock and depend on the load (1-minute load average in the last",
        "column; the machine has 2 cores).",
        "",
        "| model | data | batch x crop | workers | precision | layout | steps | CPU-ms/step | samples/CPU-s "
        "| step ms | wait ms | wait share | samples/s | worker CPU-s | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['data']} | {r['batch']} x {r['crop']} | {r['workers']} | {r['amp']} "
            f"| {r.get('layout', 'contiguous')} | {r['steps']} "
            f"| {1000 * r['trainer_cpu_s'] / r['steps']:.0f} | {r['samples_per_cpu_s']} | {r['step_ms']} "
            f"| {r['wait_ms']} | {100 * r['wait_share']:.1f} % | {r['samples_per_s']} | {r['worker_cpu_s']} "
            f"| {r['load_avg']} |"
        )
    write_markdown(path, "\n".join(lines))
    write_json(path.with_suffix(".json"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["baseline", "timelapse", "memory", "fastnet"])
    parser.add_argument("--workers", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--amp", nargs="+", default=["off"], choices=["off", "bf16"])
    layouts = ["recipe", "contiguous", "channels_last"]
    parser.add_argument(
        "--layout", nargs="+", default=["recipe"], choices=layouts, help="recipe: its train.channels_last"
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "train_speed.md")
    parser.add_argument("--append", action="store_true", help="add rows to the existing report's JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    previous = args.out.with_suffix(".json")
    rows = json.loads(previous.read_text(encoding="utf-8")) if args.append and previous.exists() else []
    for model in args.models:
        for workers in args.workers:
            for amp in args.amp:
                for layout in args.layout:
                    rows.append(measure(model, workers, amp, layout, args.steps, args.warmup) | {"steps": args.steps})
                    print(json.dumps(rows[-1]), flush=True)
    write_report(rows, args.out)


if __name__ == "__main__":
    main()
