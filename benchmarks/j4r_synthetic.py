"""``j4r`` on held-out synthetic hybrid-rain clips: the data it was trained for, on photos it never saw.

Three Kodak24 photos (held out of every recipe), 180x180 crops, 6-frame clips at 120x120 with
the ``hybrid_clips`` synthesis (hand-held camera, new rain every frame, opaque occlusions), one
clip per photo and preset; mean PSNR-Y over all frames, input vs bundled ``j4r`` (state carried).

    python benchmarks/j4r_synthetic.py [--data ../shared/data]  -> benchmarks/results/j4r_synthetic.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import derain
from _results import write_json
from derain.data.io import list_images, read_rgb
from derain.data.synth.hybrid import synth_hybrid_clip
from derain.eval.metrics import score_images

RESULT = Path(__file__).resolve().parent / "results" / "j4r_synthetic.json"
PRESETS = ("light", "medium", "heavy", "rain100l-like")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    model = derain.load("j4r", "cpu", tile=0)
    photos = list_images(args.data / "clean" / "Kodak24")[:3]
    rows = {}
    for preset in PRESETS:
        inputs, outputs = [], []
        for k, path in enumerate(photos):
            clip = synth_hybrid_clip(
                read_rgb(path)[:180, :180], 6, np.random.default_rng(k), preset=preset, out_size=(120, 120)
            )
            state = None
            for frame in clip:
                out, state = model.step(frame.image, state)
                inputs.append(score_images(frame.image, frame.background)["psnr_y"])
                outputs.append(score_images(out, frame.background)["psnr_y"])
        rows[preset] = {"identity": round(float(np.mean(inputs)), 2), "j4r": round(float(np.mean(outputs)), 2)}
        print(preset, rows[preset], file=sys.stderr)
    report = {"photos": [p.name for p in photos], "frames_per_clip": 6, "size": "120x120", "psnr_y": rows}
    write_json(RESULT, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
