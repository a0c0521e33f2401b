"""Memory format on CPU: every bundled model, contiguous (NCHW) against channels-last, same weights.

Each model runs one image per size through its own forward, both layouts interleaved (so a changing
machine load hits them alike), ``--runs`` times each after a warm-up; the outputs are compared.
The engine runs channels-last on CPU because of this table. Writes
``benchmarks/results/channels_last.{json,md}``.

    python benchmarks/channels_last.py --threads 2
    python benchmarks/channels_last.py --threads 2 --size 1080x1920 --models php,fastnet
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

import torch

from _results import markdown_table, write_results
from derain.checkpoint import build_from_file, bundled_weights
from derain.eval.bench import bundled_models
from derain.hardware import cpu_model
from derain.inference import make_step

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def measure(name: str, size: tuple[int, int], runs: int) -> dict[str, float]:
    """Median ms of both layouts and their largest output difference, for one model and size."""
    plain = build_from_file(bundled_weights(name))[1].eval().requires_grad_(False)
    last = copy.deepcopy(plain).to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, *size)
    x_last = x.contiguous(memory_format=torch.channels_last)
    times: dict[str, list[float]] = {"contiguous": [], "channels_last": []}
    with torch.inference_mode():
        # A fresh step per call: video models start from an empty state, image models just run.
        diff = float((make_step(plain)(x, (0, 0)) - make_step(last)(x_last, (0, 0))).abs().max())  # also the warm-up
        for _ in range(runs):
            for key, model, inp in (("contiguous", plain, x), ("channels_last", last, x_last)):
                start = time.perf_counter()
                make_step(model)(inp, (0, 0))
                times[key].append((time.perf_counter() - start) * 1e3)
    ms = {key: statistics.median(t) for key, t in times.items()}
    return {
        **{f"{k}_ms": v for k, v in ms.items()},
        "ratio": ms["channels_last"] / ms["contiguous"],
        "max_abs_diff": diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="512x512", help="HxW of the input")
    parser.add_argument("--models", default=None, help="comma-separated names (default: every bundled model)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(int(v) for v in args.size.split("x"))
    load_before = os.getloadavg()[0]
    rows = {}
    for name in args.models.split(",") if args.models else bundled_models():
        rows[name] = measure(name, size, args.runs)
        print(name, {k: round(v, 3) for k, v in rows[name].items()}, flush=True)
    result = {
        "cpu": cpu_model(),
        "threads": args.threads,
        "size": args.size,
        "runs": args.runs,
        "torch": torch.__version__,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "models": rows,
    }
    lines = [
        "# Contiguous against channels-last on CPU",
        "",
        f"{result['cpu']}, {args.threads} thread(s), torch {torch.__version__}, one {args.size} image, "
        "bundled weights, "
        f"median of {args.runs} interleaved runs after a warm-up; load average {result['load_before']:.1f} / "
        f"{result['load_after']:.1f} before / after.",
        "",
        *markdown_table(
            ["model", "contiguous ms", "channels-last ms", "ratio", "max abs diff"],
            (
                [
                    n,
                    f"{r['contiguous_ms']:.0f}",
                    f"{r['channels_last_ms']:.0f}",
                    f"{r['ratio']:.2f}",
                    f"{r['max_abs_diff']:.1e}",
                ]
                for n, r in rows.items()
            ),
        ),
        "",
        f"`python benchmarks/channels_last.py --threads {args.threads} --size {args.size}`",
    ]
    stem = "channels_last" if args.size == "512x512" else f"channels_last_{args.size}"
    write_results(RESULTS, stem, result, "\n".join(lines))


if __name__ == "__main__":
    main()
