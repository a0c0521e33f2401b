"""Flat memory of causal streaming: ``derain video - --model j4r`` on a 1,000-frame synthetic clip.

Pipes raw rgb24 frames (a panning synthetic scene with fresh rain each frame) into the real CLI's
stdin and writes an mp4, so decoding, the recurrent state, the engine and the encoder all count.
The peak resident set size of the CLI process (``VmHWM`` in ``/proc/<pid>/status``) is read when
frames 100 and 1,000 have been written; the pipe holds at most a few frames, so the CLI is then
within a few frames of them. Passes when the peak at 1,000 is within 10 % of the peak at 100.
Linux only (``/proc``).

    python benchmarks/j4r_stream_memory.py [--frames 1000 --width 96 --height 64 --weights FILE]
    -> benchmarks/results/j4r_stream_memory.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import write_json

RESULT = Path(__file__).resolve().parent / "results" / "j4r_stream_memory.json"
CHECKPOINTS = (100, 1000)
TOLERANCE = 0.10


def _frame(t: int, width: int, height: int, rng: np.random.Generator) -> bytes:
    """A scene panning one pixel per frame with sparse bright vertical streaks, as packed rgb24."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    scene = 0.5 + 0.3 * np.sin((xx + t) / 9.0)[..., None] * np.cos(yy[..., None] / 7.0 + np.arange(3))
    streaks = (rng.random((height, width)) < 0.004).astype(np.float32)
    streaks = np.maximum.reduce([np.roll(streaks, k, axis=0) for k in range(6)]) * 0.4
    return np.round(np.clip(scene + streaks[..., None], 0, 1) * 255).astype(np.uint8).tobytes()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=max(CHECKPOINTS))
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--weights", help="a j4r .safetensors (default: the bundled j4r)")
    args = parser.parse_args()
    model = ["--weights", args.weights] if args.weights else ["--model", "j4r"]
    rng = np.random.default_rng(0)
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out.mp4"
        cmd = [
            sys.executable,
            "-m",
            "derain",
            "video",
            "-",
            "-o",
            str(out),
            "--raw-size",
            f"{args.width}x{args.height}",
        ]
        start = time.perf_counter()
        proc = subprocess.Popen([*cmd, *model, "--device", "cpu"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None
        for t in range(1, args.frames + 1):
            proc.stdin.write(_frame(t, args.width, args.height, rng))
            if t in CHECKPOINTS:
                proc.stdin.flush()
                peaks[t] = _peak_rss_mb(proc.pid)
        proc.stdin.close()
        code = proc.wait()
        elapsed = time.perf_counter() - start
    first, last = peaks[min(peaks)], peaks[max(peaks)]
    growth = (last - first) / first
    report = {
        "frames": args.frames,
        "size": f"{args.width}x{args.height}",
        "weights": args.weights or "bundled j4r",
        "peak_rss_mb": {str(k): round(v, 1) for k, v in peaks.items()},
        "growth": round(growth, 4),
        "tolerance": TOLERANCE,
        "passed": code == 0 and growth <= TOLERANCE,
        "exit_code": code,
        "wall_s": round(elapsed, 1),
        "script": Path(__file__).name,
    }
    write_json(RESULT, report)
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
