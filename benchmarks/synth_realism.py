"""real-mix by the numbers: identity PSNR-Y per regime against the real Rain100H pairs, and render speed.

Identity PSNR-Y (the rainy image scored against its clean image, MATLAB protocol) says how much a
rain look covers the scene. Rain100H's real pairs (``bench/paired/rain100h_trainsub18``) are the
reference for the heavy regimes; the synthetic pairs are rendered on held-out Kodak24 photos shrunk
to Rain100H's 481 px long side (streak sizes are in pixels, so scales must match), without camera
degradations (they are scored separately, as "all (with camera)"). Render speed is CPU time per
sample (``time.process_time``, one thread) at the crop sizes the trainer renders, so it does not
depend on how busy the machine is. Writes ``benchmarks/results/synth_realism.{json,md}``.

    .venv/bin/python benchmarks/synth_realism.py
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import time
from pathlib import Path

import cv2
import numpy as np

from _results import markdown_table, write_results
from derain.data.io import list_images, read_rgb
from derain.data.synth import REAL_MIX, Degradation, add_rain, draw_recipe, render_recipe, streak_source
from derain.data.synth.regimes import REGIMES, texture_recipe
from derain.eval.metrics import psnr

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("DERAIN_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
RAIN100H = DATA / "bench" / "paired" / "rain100h_trainsub18"


def _shrink(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    return cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
        "n": len(values),
    }


def identity_scores(draws: int) -> dict[str, dict[str, float]]:
    """Identity PSNR-Y per regime (and real-mix as a whole), plus the real Rain100H pairs."""
    rain, clean = list_images(RAIN100H / "rain"), list_images(RAIN100H / "clean")
    out = {
        "real Rain100H (18 pairs)": _summary([psnr(read_rgb(r), read_rgb(c)) for r, c in zip(rain, clean, strict=True)])
    }
    photos = [_shrink(read_rgb(p), 481) for p in list_images(DATA / "clean" / "Kodak24")]
    streaks = streak_source(None)
    regimes = {name: fn for name, (_, fn) in REAL_MIX.items()}
    if streaks is not None:
        regimes["texture"] = lambda r: texture_recipe(r, streaks)
    regimes["long (long-rain)"] = REGIMES["long"]
    for name, draw in regimes.items():
        values = []
        for i in range(draws):
            rng = np.random.default_rng([7, i])
            background = photos[i % len(photos)]
            recipe = dataclasses.replace(draw(rng), degradation=Degradation())
            values.append(psnr(render_recipe(background, recipe, rng).image, background))
        out[name] = _summary(values)
    old = [
        psnr(
            add_rain(photos[i % len(photos)], "rain100h-like", np.random.default_rng([7, i])).image,
            photos[i % len(photos)],
        )
        for i in range(draws)
    ]
    out["old rain100h-like preset"] = _summary(old)
    values = []
    for i in range(4 * draws):
        rng = np.random.default_rng([8, i])
        background = photos[i % len(photos)]
        values.append(psnr(render_recipe(background, draw_recipe(rng, streaks), rng).image, background))
    out["real-mix, all (with camera)"] = _summary(values)
    return out


def render_speed(size: int, draws: int) -> dict[str, float]:
    """CPU ms per real-mix sample of ``size``², per regime and overall (textures warmed up first), and long-rain's."""
    streaks = streak_source(None)
    photo = read_rgb(list_images(DATA / "clean" / "Kodak24")[0])
    background = np.ascontiguousarray(photo[:size, :size])
    for i in range(300):  # load every texture once: the trainer's workers keep them cached
        rng = np.random.default_rng([9, i])
        render_recipe(background[:32, :32], draw_recipe(rng, streaks), rng)
    per = collections.defaultdict(list)
    for i in range(draws):
        rng = np.random.default_rng([10, i])
        start = time.process_time()
        recipe = draw_recipe(rng, streaks)
        render_recipe(background, recipe, rng)
        per[recipe.regime].append(time.process_time() - start)
    every = [t for times in per.values() for t in times]
    for i in range(draws // 4):  # long-rain (not a real-mix regime): its 150-400 px kernels are the dearest
        rng = np.random.default_rng([11, i])
        start = time.process_time()
        render_recipe(background, draw_recipe(rng, streaks, "long-rain"), rng)
        per["long (long-rain)"].append(time.process_time() - start)
    return {"all": 1e3 * float(np.mean(every))} | {name: 1e3 * float(np.mean(t)) for name, t in sorted(per.items())}


def _markdown(result: dict) -> str:
    lines = ["# real-mix: identity PSNR-Y and render speed", "", "Command: `" + result["command"] + "`", ""]
    lines += ["| rain | identity PSNR-Y mean | min | max | n |", "|---|---|---|---|---|"]
    for name, s in result["identity"].items():
        lines.append(f"| {name} | {s['mean']:.2f} | {s['min']:.2f} | {s['max']:.2f} | {s['n']} |")
    lines += ["", "CPU ms per sample (one thread, `time.process_time`):", ""]
    speed = result["speed_ms"]
    sizes = list(speed)
    rows = [[name, *(f"{speed[s].get(name, float('nan')):.1f}" for s in sizes)] for name in speed[sizes[0]]]
    lines += markdown_table(["regime", *(f"{s}²" for s in sizes)], rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=24, help="synthetic pairs per regime")
    parser.add_argument("--speed-draws", type=int, default=400, help="samples timed per crop size")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    result = {
        "command": f"python benchmarks/synth_realism.py --draws {args.draws} --speed-draws {args.speed_draws}",
        "identity": identity_scores(args.draws),
        "speed_ms": {str(size): render_speed(size, args.speed_draws) for size in (128, 256)},
    }
    markdown = _markdown(result)
    write_results(RESULTS, "synth_realism", result, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
