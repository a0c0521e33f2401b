"""Streaming speed: frames per second of ``Derainer.step`` on 640x480 video on the CPU.

Runs each model on a stream of synthetic frames (``--frames``, after ``--warmup`` frames) with
``--threads`` torch threads, the way ``derain video`` runs it (engine tiling, state carried), and
reports the median per-frame time. The machine may be shared: the JSON records the load average.

    python benchmarks/video_fps.py [--models j4r,baseline --size 640x480 --threads 2 --frames 10]
    -> benchmarks/results/video_fps.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import derain
from _results import write_json
from derain.data.live import parse_size

RESULT = Path(__file__).resolve().parent / "results" / "video_fps.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="j4r", help="comma-separated registered names with bundled weights")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    width, height = parse_size(args.size)
    rng = np.random.default_rng(0)
    frames = [rng.random((height, width, 3), dtype=np.float32) for _ in range(args.warmup + args.frames)]
    rows = {}
    for name in args.models.split(","):
        model = derain.load(name, "cpu")
        state, times = None, []
        for i, frame in enumerate(frames):
            start = time.perf_counter()
            _, state = model.step(frame, state)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        median = statistics.median(times)
        rows[name] = {"ms_per_frame": round(median * 1e3, 1), "fps": round(1 / median, 2)}
        print(f"{name}: {rows[name]['fps']} fps ({rows[name]['ms_per_frame']} ms/frame)", file=sys.stderr)
    report = {
        "size": args.size,
        "threads": args.threads,
        "frames": args.frames,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "models": rows,
        "script": Path(__file__).name,
    }
    write_json(RESULT, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
