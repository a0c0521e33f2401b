"""Peak memory of ``derain run`` on a 4000x3000 JPEG on the CPU with the default model and tiling.

Writes a synthetic JPEG, then runs the real CLI (``derain run``, bundled weights of the default
model) in a fresh subprocess, so nothing else counts, and reads that subprocess's peak resident set
size from ``resource.getrusage(RUSAGE_CHILDREN)``. The budget is 3 GB; the exit code is 1 over it.

    python benchmarks/memory_4k.py [--width 4000 --height 3000 --tile 512]
    -> benchmarks/results/memory_4k.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_json

BUDGET_BYTES = 3 * 1024**3

RESULT = Path(__file__).resolve().parent / "results" / "memory_4k.json"


def _write_jpeg(path: Path, width: int, height: int) -> None:
    """A smooth random photo-like JPEG (written in this process, outside the measured one)."""
    import numpy as np

    from derain.data.io import write_image

    coarse = np.random.default_rng(0).random((height // 50 + 1, width // 50 + 1, 3), dtype=np.float32)
    image = np.kron(coarse, np.ones((50, 50, 1), np.float32))[:height, :width]
    write_image(path, image, quality=90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--tile", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "photo.jpg"
        _write_jpeg(photo, args.width, args.height)
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "derain", "run", str(photo), "-o", str(Path(scratch) / "out"), "--device", "cpu"]
        subprocess.run([*cmd, "--tile", str(args.tile)], check=True)
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    report = {
        "image": f"{args.width}x{args.height}",
        "tile": args.tile,
        "peak_rss_mb": round(peak / 1024**2),
        "budget_mb": BUDGET_BYTES // 1024**2,
        "wall_s": round(elapsed, 1),
        "script": Path(__file__).name,
    }
    write_json(RESULT, report)
    print(json.dumps(report))
    return 0 if peak < BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
