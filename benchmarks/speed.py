"""Regenerate README's speed table: CPU ms and peak RSS per model at 256, 512 and 1024 px, tiled vs untiled.

Each measurement runs in a fresh subprocess (``--worker``), because peak RSS (``ru_maxrss``) only
ever grows within a process. Models are randomly initialised: weight values do not change speed,
and the script then runs before any weights are trained. Time is the median of ``--runs`` passes of
the inference engine (padding + tiling, what ``derain run`` does) after one warm-up, float32 on the
CPU, with the thread count recorded. Writes ``benchmarks/results/speed.{json,md}``.

    .venv/bin/python benchmarks/speed.py                         # all registered models
    .venv/bin/python benchmarks/speed.py --models baseline --sizes 256 512
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch

from _results import write_results
from _timing import median_ms
from derain.api import list_models
from derain.eval.bench import environment
from derain.eval.report import jsonable
from derain.inference import DEFAULT_TILE, Engine, make_step
from derain.models import build_model

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def worker(name: str, size: int, tile: int, runs: int) -> dict[str, float]:
    """One measurement in this process: median ms and peak RSS (MiB) before and after running."""
    model = build_model(name).eval().requires_grad_(False)
    engine = Engine.for_model(model, torch.device("cpu"), torch.float32, tile=tile)
    engine.prepare(model)
    x = torch.rand(1, 3, size, size)
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    ms = median_ms(lambda: engine.run(make_step(model), x), runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"cpu_ms": ms, "rss_model_mib": rss_model, "peak_rss_mib": peak}


def measure(name: str, size: int, tile: int, runs: int, threads: int) -> dict[str, float]:
    """Run :func:`worker` in a fresh interpreter and return its JSON line."""
    cmd = [sys.executable, __file__, "--worker", name, str(size), str(tile), "--runs", str(runs)]
    cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [
        "# derain CPU speed",
        "",
        f"{env['cpu_model']}, {result['threads']} threads, torch {env['torch_version']}, "
        f"derain {env['package_version']} (commit {(env['git_commit'] or 'unknown')[:12]}"
        f"{'+dirty' if env.get('git_dirty') else ''}), {env['date']}.",
        f"Median of {result['runs']} runs after one warm-up, float32, one image; tiled = tiles of at most "
        f"{result['tile']} px (the fewest that cover the image, shared evenly) with the model's policy overlap "
        "(4 x its receptive-field radius: 32 px for the U-Nets), untiled = whole image at once. "
        "Peak RSS is the whole process.",
        "",
        "| model | size | tiling | CPU ms | peak RSS (MiB) |",
        "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        tiling = "tiled" if r["tile"] else "untiled"
        lines.append(f"| {r['model']} | {r['size']}² | {tiling} | {r['cpu_ms']:.1f} | {r['peak_rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=3, metavar=("MODEL", "SIZE", "TILE"), help=argparse.SUPPRESS)
    parser.add_argument("--models", default=None, help="comma-separated names (default: all registered)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE, help="tile side of the tiled rows")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        name, size, tile = args.worker
        print(json.dumps(worker(name, int(size), int(tile), args.runs)))
        return 0

    rows = []
    for name in args.models.split(",") if args.models else list_models():
        for size in args.sizes:
            for tile in (args.tile, 0):
                print(f"{name} {size}px tile={tile}", file=sys.stderr)
                rows.append(
                    {"model": name, "size": size, "tile": tile, **measure(name, size, tile, args.runs, args.threads)}
                )
    result = {
        "environment": environment(torch.device("cpu")) | {"cpu_threads": args.threads},
        "threads": args.threads,
        "tile": args.tile,
        "runs": args.runs,
        "rows": rows,
    }
    for path in write_results(args.out, "speed", jsonable(result), markdown(result)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
