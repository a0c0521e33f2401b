"""Does j4r's recurrent state do the work? The dev clip with the state carried vs reset every frame.

Carried is how ``derain video`` runs it; reset (``step(frame, None)`` per frame) makes it a
single-image derainer with an empty memory. The gap is what the memory H_t contributes.

    python benchmarks/j4r_state.py [--weights FILE] [--clip DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

import derain
from _results import markdown_table, write_results
from derain.eval.report import jsonable
from derain.eval.video import score_video_set
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "data" / "bench" / "video" / "nturain_syn_a1_dev60"
METRICS = ("psnr_y", "ssim_y", "flicker")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="j4r", help="j4r weights file (default: the bundled ones)")
    parser.add_argument("--clip", type=Path, default=CLIP, help="paired clip folder (rain/ + clean/)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not args.clip.is_dir():
        print(f"j4r_state: {args.clip} not found (needs ../shared/data)", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    model = derain.load(args.weights, "cpu")

    def reset(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        return (model.step(frame, None)[0] for frame in frames)

    result = score_video_set(args.clip, [("state carried", model.frames), ("state reset", reset)])
    rows = [[row, *(f"{s[m]:.4f}" if m in s else "—" for m in METRICS)] for row, s in result["mean"].items()]
    text = (
        f"# j4r on {result['name']}: recurrent state carried vs reset ({result['count']} frames)\n\n"
        + "\n".join(markdown_table(["row", "PSNR-Y", "SSIM-Y", "flicker"], rows))
        + f"\n\n`python benchmarks/j4r_state.py --weights {args.weights}`\n"
    )
    data = {"environment": describe_hardware(torch.device("cpu")), "weights": args.weights, "mean": result["mean"]}
    write_results(args.out, "j4r_state", jsonable(data), text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
