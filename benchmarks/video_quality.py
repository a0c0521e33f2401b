"""Video quality: every bundled model on the paired dev clip, and ``j4r`` on the real clip.

1. ``derain bench --models all --video bench/video/nturain_syn_a1_dev60``: per-frame PSNR/SSIM
   (Y, the README protocol) and flicker, video models with their state carried, image models per
   frame -> ``results/video_quality.{json,md}``.
2. ``derain video --model j4r`` (the real CLI) on the real clip ``bench/video/nturain_real_ra1``
   into an mp4 plus a ``--compare`` side-by-side mp4; checks frame count and fps, and saves a strip
   of three input | output frames -> ``results/grids/j4r_real/`` (not committed: research-only
   footage).

    python benchmarks/video_quality.py [--data ../shared/data] [--max-frames N] [--only bench|real]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import write_json, write_markdown

RESULTS = Path(__file__).resolve().parent / "results"
PAIRED = "bench/video/nturain_syn_a1_dev60"
REAL = "bench/video/nturain_real_ra1"
STRIP_FRAMES = (10, 30, 50)


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "derain", *args], check=True)


def _real_clip(real: Path) -> dict[str, object]:
    """Derain the real clip with the CLI; return what came out and write the strip."""
    out_dir = RESULTS / "grids" / "j4r_real"
    out_dir.mkdir(parents=True, exist_ok=True)
    out, side = out_dir / "ra1_j4r.mp4", out_dir / "ra1_compare.mp4"
    _cli("video", str(real / "rain"), "-o", str(out), "--compare", str(side), "--model", "j4r", "--overwrite")
    return describe_real(real, out, side)


def describe_real(real: Path, out: Path, side: Path) -> dict[str, object]:
    """Frame counts and rates of the input and the derained mp4; a strip of ``side`` frames next to it."""
    import numpy as np

    from derain.data.io import write_image
    from derain.data.video import open_video
    from derain.eval.report import make_grid

    out_dir = out.parent
    src_info, _ = open_video(real / "rain")
    info, frames = open_video(out)
    _, pairs = open_video(side)
    strip = [f for i, f in enumerate(pairs, start=1) if i in STRIP_FRAMES]
    count = sum(1 for _ in frames)
    grid = make_grid([np.concatenate(strip, axis=0)], [f"input | j4r, frames {STRIP_FRAMES}"], cell=960)
    write_image(out_dir / "ra1_strip.png", grid)
    return {
        "frames_in": src_info.frame_count,
        "frames_out": count,
        "fps_in": src_info.fps,
        "fps_out": info.fps,
        "strip": str((out_dir / "ra1_strip.png").relative_to(RESULTS.parent.parent)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--only", choices=("bench", "real"), help="run one part (the other keeps its results)")
    args = parser.parse_args()
    result = RESULTS / "video_quality.json"
    report = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
    if args.only != "real":
        with tempfile.TemporaryDirectory() as scratch:
            extra = ["--max-images", str(args.max_frames)] if args.max_frames else []
            video = str(args.data / PAIRED)
            _cli("bench", "--models", "all", "--video", video, "--out", scratch, "--cost-size", "256", *extra)
            report = {**json.loads((Path(scratch) / "report.json").read_text(encoding="utf-8")), "real_clip": None}
            write_markdown(RESULTS / "video_quality.md", (Path(scratch) / "report.md").read_text(encoding="utf-8"))
        write_json(result, report)  # kept if the real clip fails
    if args.only != "bench":
        report["real_clip"] = _real_clip(args.data / REAL)
        write_json(result, report)
        print(json.dumps(report["real_clip"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
