"""What libx264's speed presets cost and keep at 1080p, at derain's crf: the choice behind ``derain video``'s default.

Encodes the first ``--frames`` frames of the rainy 1080p clip of ``speed_models.py`` (the example
photo under synthetic rain) once per preset with ``VideoWriter`` (crf 18 and libx264's own thread
count, as ``derain video``), and reports ms per frame, file size and the PSNR of the decoded frames
against the frames given. Writes ``benchmarks/results/x264_presets.{json,md}``.

    python benchmarks/x264_presets.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import markdown_table, write_results
from derain.data.video import VideoWriter, open_video
from derain.eval.metrics import psnr
from speed_models import RESULTS, rainy_clip

PRESETS = ("medium", "faster", "veryfast")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        _, decoded = open_video(rainy_clip(Path(tmp) / "clip.mp4", args.frames))
        frames = list(decoded)
        for preset in PRESETS:
            path = Path(tmp) / f"{preset}.mp4"
            start = time.perf_counter()
            with VideoWriter(path, 25, x264_preset=preset) as writer:
                for frame in frames:
                    writer.write(frame)
            ms = (time.perf_counter() - start) * 1e3 / len(frames)
            kept = float(
                np.mean([psnr(a, b, y_channel=False) for a, b in zip(open_video(path)[1], frames, strict=True)])
            )
            rows.append({"preset": preset, "ms_per_frame": ms, "kib": path.stat().st_size / 1024, "psnr_rgb": kept})
    lines = [
        f"# libx264 presets at crf 18, {args.frames} frames of 1920x1080 (`python benchmarks/x264_presets.py`)",
        "",
        *markdown_table(
            ["preset", "ms per frame", "KiB", "PSNR-RGB vs frames given"],
            [[r["preset"], f"{r['ms_per_frame']:.0f}", f"{r['kib']:.0f}", f"{r['psnr_rgb']:.2f}"] for r in rows],
        ),
    ]
    for path in write_results(RESULTS, "x264_presets", {"frames": args.frames, "rows": rows}, "\n".join(lines)):
        print(path)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
