"""Pick php's widths and depth: CPU speed and short-run quality of a few candidate sizes.

For each candidate: parameters, GFLOPs and single-thread CPU ms at 512x512 (median of 3 after a
warm-up), then ``--steps`` Adam steps of the ``php`` objective on the ``php_intensity`` data (mixed
with heavier presets) from the same seed, and PSNR-Y / SSIM-Y of the result on held-out validation
pairs. Short runs rank sizes; they are not the bundled model's scores. Writes
``benchmarks/results/php_sweep.{json,md}``.

    OMP_NUM_THREADS=1 python benchmarks/php_sweep.py --steps 150 --val runs/val/synth_kodak
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from _results import write_results
from derain.data.datasets import build_dataset
from derain.data.io import list_images, read_rgb
from derain.eval.cost import count_params, cpu_ms, gflops
from derain.eval.metrics import psnr, ssim
from derain.models import build_model
from derain.train.objectives import OBJECTIVES

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"

CANDIDATES: dict[str, dict[str, int]] = {
    "w16-b2": {"width": 16, "blocks": 2, "refine_width": 8, "refine_blocks": 1},
    "w32-b3 (default)": {"width": 32, "blocks": 3, "refine_width": 16, "refine_blocks": 1},
    "w48-b4": {"width": 48, "blocks": 4, "refine_width": 16, "refine_blocks": 2},
}


def train_and_score(config: dict[str, int], steps: int, val: Path, max_images: int) -> dict[str, float]:
    """Train ``config`` for ``steps`` from seed 0 and score it on ``val`` (rain/ + clean/)."""
    torch.manual_seed(0)
    model = build_model("php", config)
    objective = OBJECTIVES.get("php")()
    data = build_dataset(
        "php_intensity", crop=96, flip=True, length=steps * 4, exclude=["Kodak24"], mix_ratio=0.3, preset=["heavy"]
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=False)
    start = time.perf_counter()
    for batch in loader:
        loss, _ = objective(model, batch, 0.0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    train_s = time.perf_counter() - start
    model.eval()
    scores = []
    with torch.inference_mode():
        for path in list_images(val / "rain")[:max_images]:
            rain, clean = read_rgb(path), read_rgb(val / "clean" / path.name)
            x = torch.from_numpy(rain).permute(2, 0, 1)[None]
            out = model(x).background[0].permute(1, 2, 0).numpy()
            scores.append((psnr(out, clean, quantize=True), ssim(out, clean, quantize=True)))
    return {
        "psnr_y": sum(s[0] for s in scores) / len(scores),
        "ssim_y": sum(s[1] for s in scores) / len(scores),
        "train_s": train_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--val", type=Path, default=Path("runs/val/synth_kodak"))
    parser.add_argument("--max-images", type=int, default=8)
    args = parser.parse_args()
    rows = []
    for name, config in CANDIDATES.items():
        model = build_model("php", config).eval()
        row = {"name": name, "config": config, "params": count_params(model), "gflops": gflops(model, 512)}
        row["cpu_ms_512_1thread"] = cpu_ms(model, 512, runs=3)
        row.update(train_and_score(config, args.steps, args.val, args.max_images))
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {"steps": args.steps, "batch": 4, "crop": 96, "val": str(args.val), "threads": torch.get_num_threads()}
    result["rows"] = rows
    lines = [
        "# php size sweep",
        "",
        f"{args.steps} Adam steps (lr 1e-3, batch 4, 96 px crops of php_intensity + 30 % heavy rain, seed 0), then "
        f"PSNR-Y / SSIM-Y on {args.max_images} pairs of `{args.val}`; CPU ms: one 512x512 image, one thread, "
        "median of 3 on a shared (loaded) machine.",
        "",
        "| candidate | params | GFLOPs @512² | CPU ms @512² | PSNR-Y | SSIM-Y | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['gflops']:.2f} | {r['cpu_ms_512_1thread']:.0f} | "
            f"{r['psnr_y']:.2f} | {r['ssim_y']:.4f} | {r['train_s']:.0f} |"
        )
    write_results(RESULTS, "php_sweep", result, "\n".join(lines))


if __name__ == "__main__":
    main()
