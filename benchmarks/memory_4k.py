"""Peak memory of deraining a 4000x3000 photo on the CPU with the default model and tiling.

Runs the derain in a fresh subprocess (so nothing else counts) and reads its peak resident set size
from ``resource.getrusage(RUSAGE_CHILDREN)``. The budget is 3 GB. Uses the bundled weights when the
default model has them, else a randomly initialised one (same memory).

    python benchmarks/memory_4k.py [--width 4000 --height 3000 --tile 512]
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

BUDGET_BYTES = 3 * 1024**3

_CHILD = """
import sys, numpy as np
from derain.api import DEFAULT_MODEL, bundled_weights, load
from derain.checkpoint import save_weights
from derain.models import build_model
width, height, tile, scratch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
source = DEFAULT_MODEL
if bundled_weights(DEFAULT_MODEL) is None:
    model = build_model(DEFAULT_MODEL)
    source = save_weights(model, scratch + "/random.safetensors", model_name=DEFAULT_MODEL, config={})
image = np.random.default_rng(0).random((height, width, 3), dtype=np.float32)
out = load(source, "cpu", tile=tile)(image)
assert out.shape == image.shape
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--tile", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        cmd = [sys.executable, "-c", _CHILD, str(args.width), str(args.height), str(args.tile), scratch]
        subprocess.run(cmd, check=True)
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
    print(json.dumps(report))
    return 0 if peak < BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
