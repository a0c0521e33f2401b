"""Every derain model's CPU speed on a 512x512 image and a 1920x1080 frame, and ``derain video`` fps at 1080p.

One run measures all models under the same conditions (php's speed goal: <= 100 ms per 512x512 and
>= 1 frame/s at 1080p through ``derain video`` on 2 CPU threads). Per model, in a fresh subprocess:
median of ``--runs`` passes of the inference engine (padding + the model's tiling policy, what
``derain run`` does) after one warm-up, float32, randomly initialised weights (values do not change speed).
``--video`` models additionally run the real CLI, ``derain video`` (bundled weights), on a ``--frames``
long 1080p clip of the example photo under synthetic rain (H.264 in and out), timed end to end
including start-up, decode and encode. The load average is recorded, because a shared machine slows
every row. Writes ``benchmarks/results/speed_models.{json,md}``.

    python benchmarks/speed_models.py --threads 2                     # all models with bundled weights
    python benchmarks/speed_models.py --models php,baseline --video php,baseline
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from _results import write_results
from derain.checkpoint import build_from_file, bundled_weights, save_weights
from derain.eval.bench import bundled_models, environment
from derain.eval.cost import count_params, gflops
from derain.eval.report import jsonable
from derain.inference import Engine, make_step
from derain.models import build_model

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SIZES: dict[str, tuple[int, int]] = {"512x512": (512, 512), "1920x1080": (1080, 1920)}


def timed_model(name: str) -> torch.nn.Module:
    """The architecture users run: the bundled file's (its config may switch on more than the
    registry default, e.g. php's detail gate), else the registry default with random weights."""
    path = bundled_weights(name)
    model = build_from_file(path)[1] if path is not None else build_model(name)
    return model.eval().requires_grad_(False)


def worker(name: str, runs: int, sizes: list[str], device: torch.device) -> dict[str, float]:
    """ms per image at each of ``sizes`` (keys of :data:`SIZES`) through the engine, in this process.

    One warm-up pass at the first size; tiles of larger images have the warmed-up shapes' cost. On a
    GPU the image starts and ends in host memory, as with ``derain run``, and the clock waits for the device.
    """
    model = timed_model(name).to(device)
    engine = Engine.for_model(model, device, torch.float32)  # the model's tiling policy, as `derain run`
    engine.prepare(model)  # and its memory format, as `derain run`
    engine.run(make_step(model), torch.rand(1, 3, *SIZES[sizes[0]]))  # warm-up
    out = {}
    for label in sizes:
        x = torch.rand(1, 3, *SIZES[label])
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            engine.run(make_step(model), x)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1e3)
        out[f"ms_{label}"] = statistics.median(times)
    return out


def rainy_clip(path: Path, frames: int) -> Path:
    """A 1080p H.264 clip of the bundled example photo under fresh ``medium`` rain each frame.

    A real photo, not noise: H.264 spends far longer on noise than on video, which would make the
    codec's share of ``derain video`` time unrealistically large.
    """
    from derain.commands.demo import PHOTO
    from derain.data.io import read_rgb
    from derain.data.synth import add_rain
    from derain.data.video import VideoWriter

    if not path.exists():
        photo = cv2.resize(read_rgb(PHOTO), (1920, 1080), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        rng = np.random.default_rng(0)
        with VideoWriter(path, 25) as writer:
            for _ in range(frames):
                writer.write(add_rain(photo, "medium", rng).image)
    return path


def video_fps(name: str, frames: int, threads: int, folder: Path) -> tuple[float, float]:
    """``derain video`` frames per second on a 1080p H.264 clip: end to end (one process, start-up
    included) and after start-up (the command's own timing of its decode-derain-encode loop).

    With the model's bundled weights when it has them (real outputs to encode), else random ones.
    """
    clip = rainy_clip(folder / "clip.mp4", frames)
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "derain", "video", str(clip), "-o", str(folder / f"{name}_out.mp4")]
    if name in bundled_models():
        cmd += ["--model", name]
    else:
        weights = save_weights(build_model(name), folder / f"{name}.safetensors", model_name=name, config={})
        cmd += ["--weights", str(weights)]
    cmd += ["--device", "cpu", "--overwrite"]
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    end_to_end = frames / (time.perf_counter() - start)
    loop_seconds = float(re.search(r", ([0-9.]+) s", done.stdout).group(1))  # "... derained into OUT, 12.3 s"
    return end_to_end, frames / loop_seconds


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [
        f"# derain {result['device'].upper()} speed per model",
        "",
        f"{env.get('gpu') or env['cpu_model']}, {result['threads']} CPU threads, torch {env['torch_version']}, "
        f"commit {(env['git_commit'] or 'unknown')[:12]}, {env['date']}; load average before / after: "
        f"{result['load_before']:.1f} / {result['load_after']:.1f} (a shared machine slows every row, unevenly).",
        "Engine with each model's tiling policy (as `derain run`), float32, "
        f"median of {result['runs']} runs after a warm-up at 512². Video: `derain video` on a {result['frames']}-frame "
        "1920x1080 H.264 clip (the example photo under `medium` rain, bundled weights), end to end "
        "(start-up, decode, encode included; in brackets: after start-up, the command's own timing of its loop).",
        "",
        "| model | params | GFLOPs @512² | ms @512² | ms @1920×1080 | derain video fps @1080p (after start-up) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        fps = f"{r['video_fps']:.2f} ({r['video_fps_after_startup']:.2f})" if "video_fps" in r else "—"
        frame = f"{r['ms_1920x1080']:.0f}" if "ms_1920x1080" in r else "not measured"
        cells = [r["model"], f"{r['params']:,}", f"{r['gflops_512']:.1f}", f"{r['ms_512x512']:.0f}", frame, fps]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=",".join(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--models", default=None, help="comma-separated names (default: models with bundled weights)")
    parser.add_argument("--video", default="php", help="comma-separated models also timed through `derain video`")
    parser.add_argument("--frame", default=None, help="comma-separated models timed at 1920x1080 (default: all)")
    parser.add_argument("--frames", type=int, default=30, help="frames of the 1080p clip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (on a GPU, results go to speed_models_cuda.*)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs, args.sizes.split(","), torch.device(args.device))))
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
            cmd += ["--device", args.device]
            cmd += ["--sizes", sizes]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            model = timed_model(name)
            row = {"model": name, "params": count_params(model), "gflops_512": gflops(model, 512)}
            row |= json.loads(done.stdout.strip().splitlines()[-1])
            if name in video:
                row["video_fps"], row["video_fps_after_startup"] = video_fps(name, args.frames, args.threads, Path(tmp))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    result = {
        "environment": environment(torch.device(args.device)) | {"cpu_threads": args.threads},
        "device": args.device,
        "threads": args.threads,
        "runs": args.runs,
        "frames": args.frames,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "rows": rows,
    }
    stem = "speed_models" if args.device == "cpu" else f"speed_models_{args.device}"
    for path in write_results(args.out, stem, jsonable(result), markdown(result)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
