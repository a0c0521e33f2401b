"""Every derain model's CPU speed on a 512x512 image and a 1920x1080 frame, and ``derain video`` fps at 1080p.

One run measures all models under the same conditions (php's speed goal: <= 100 ms per 512x512 and
>= 1 frame/s at 1080p through ``derain video`` on 2 CPU threads). Per model, in a fresh subprocess:
median of ``--runs`` passes of the inference engine (padding + the model's tiling policy, what
``derain run`` does) after one warm-up, float32, randomly initialised weights (values do not change speed).
``--video`` models additionally run the real CLI, ``derain video``, on a ``--frames`` long 1080p
clip (H.264 in and out), timed end to end including start-up, decode and encode. The load average
is recorded, because a shared machine slows every row. Writes ``benchmarks/results/speed_models.{json,md}``.

    python benchmarks/speed_models.py --threads 2                     # all models with bundled weights
    python benchmarks/speed_models.py --models php,baseline --video php,baseline
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _results import write_results
from derain.eval.bench import bundled_models, environment
from derain.eval.report import jsonable
from derain.inference import Engine, make_step
from derain.models import build_model

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SIZES: dict[str, tuple[int, int]] = {"512x512": (512, 512), "1920x1080": (1080, 1920)}


def worker(name: str, runs: int, sizes: list[str]) -> dict[str, float]:
    """ms per image at each of ``sizes`` (keys of :data:`SIZES`) through the engine, in this process.

    One warm-up pass at the first size; tiles of larger images have the warmed-up shapes' cost.
    """
    model = build_model(name).eval().requires_grad_(False)
    engine = Engine.for_model(model, torch.device("cpu"), torch.float32)  # the model's tiling policy, as `derain run`
    engine.run(make_step(model), torch.rand(1, 3, *SIZES[sizes[0]]))  # warm-up
    out = {}
    for label in sizes:
        x = torch.rand(1, 3, *SIZES[label])
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            engine.run(make_step(model), x)
            times.append((time.perf_counter() - start) * 1e3)
        out[f"ms_{label}"] = statistics.median(times)
    return out


def video_fps(name: str, frames: int, threads: int, folder: Path) -> float:
    """Frames per second of ``derain video`` on a 1080p H.264 clip, end to end (one process)."""
    from derain.checkpoint import save_weights
    from derain.data.video import VideoWriter

    clip = folder / "clip.mp4"
    if not clip.exists():
        rng = np.random.default_rng(0)
        with VideoWriter(clip, 25) as writer:
            for _ in range(frames):
                writer.write(rng.random((1080, 1920, 3), dtype=np.float32))
    weights = save_weights(build_model(name), folder / f"{name}.safetensors", model_name=name, config={})
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "derain", "video", str(clip), "-o", str(folder / f"{name}_out.mp4")]
    cmd += ["--weights", str(weights), "--device", "cpu", "--overwrite"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return frames / (time.perf_counter() - start)


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [
        "# derain CPU speed per model",
        "",
        f"{env['cpu_model']}, {result['threads']} threads, torch {env['torch_version']}, "
        f"commit {(env['git_commit'] or 'unknown')[:12]}, {env['date']}; load average before / after: "
        f"{result['load_before']:.1f} / {result['load_after']:.1f} (a shared machine slows every row, unevenly).",
        "Engine with each model's tiling policy (as `derain run`), float32, "
        f"median of {result['runs']} runs after a warm-up at 512². Video: `derain video` on a {result['frames']}-frame "
        "1920x1080 H.264 clip, end to end (start-up, decode, encode included).",
        "",
        "| model | params | ms @512² | ms @1920×1080 | derain video fps @1080p |",
        "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        fps = f"{r['video_fps']:.3f}" if r.get("video_fps") is not None else "—"
        frame = f"{r['ms_1920x1080']:.0f}" if "ms_1920x1080" in r else "not measured"
        lines.append(f"| {r['model']} | {r['params']:,} | {r['ms_512x512']:.0f} | {frame} | {fps} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=",".join(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--models", default=None, help="comma-separated names (default: models with bundled weights)")
    parser.add_argument("--video", default="php", help="comma-separated models also timed through `derain video`")
    parser.add_argument("--frame", default=None, help="comma-separated models timed at 1920x1080 (default: all)")
    parser.add_argument("--frames", type=int, default=8, help="frames of the 1080p clip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs, args.sizes.split(","))))
        return 0
    names = args.models.split(",") if args.models else bundled_models()
    video = set(args.video.split(",")) if args.video else set()
    frame = set(args.frame.split(",")) if args.frame else set(names)
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(name, file=sys.stderr)
            sizes = ",".join(label for label in SIZES if label == "512x512" or name in frame)
            cmd = [sys.executable, __file__, "--worker", name, "--runs", str(args.runs), "--threads", str(args.threads)]
            cmd += ["--sizes", sizes]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = {"model": name, "params": sum(p.numel() for p in build_model(name).parameters())}
            row |= json.loads(done.stdout.strip().splitlines()[-1])
            row["video_fps"] = video_fps(name, args.frames, args.threads, Path(tmp)) if name in video else None
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    result = {
        "environment": environment(torch.device("cpu")) | {"cpu_threads": args.threads},
        "threads": args.threads,
        "runs": args.runs,
        "frames": args.frames,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rows": rows,
    }
    for path in write_results(args.out, "speed_models", jsonable(result), markdown(result)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
