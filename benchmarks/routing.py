"""Does a routed model pick the right expert, and what does it cost? (``derain.models.routing``)

Per paired set: the routing intensity of each rainy image (median, range), the share of images that go
wholly to the light expert, into the ramp, or wholly to the heavy expert, and the mean PSNR-Y / SSIM-Y of
the light expert alone, the heavy expert alone, the routed model, and the per-image oracle (the better
expert on each image, by PSNR-Y: what a perfect router of these two experts would score). Then the CPU
ms of each path at 512² and 1920x1080 through the inference engine (forced by moving the ramp): light
(intensity + light pass), heavy (intensity + heavy pass), blend (intensity + both).

    python benchmarks/routing.py --model php|fastnet [--weights FILE] [--sets DIR ...] [--threads 2]

Results: ``benchmarks/results/<model>_routing.{md,json}`` (``--name`` to change).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from _results import write_results
from _timing import median_ms
from derain.checkpoint import build_from_file, bundled_weights
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.bench import environment
from derain.eval.metrics import psnr, ssim
from derain.eval.report import jsonable
from derain.inference import Engine, make_step
from derain.inference.convert import to_batch
from derain.models.base import pad_to_multiple
from derain.models.routing import RoutableModel, rain_intensity, route_weight

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"
DEFAULT_SETS = tuple(
    PAIRED / s for s in ("rain100l_subset11", "rain12", "sirr_val20", "spa_real2", "rain100h_trainsub18")
)
#: Forced ramps (low, high) for timing each path: every image light, heavy, or inside the ramp.
PATHS = {"light": (10.0, 11.0), "heavy": (-2.0, -1.0), "blend": (-1.0, 10.0)}
SIZES = {"512x512": (512, 512), "1920x1080": (1080, 1920)}


def routed_model(name: str, path: Path | None) -> RoutableModel:
    """The routed model of ``path`` (default: model ``name``'s bundled file), in eval mode."""
    path = path or bundled_weights(name)
    if path is None:
        raise SystemExit(f"routing: {name} has no bundled weights; pass --weights FILE")
    model = build_from_file(path)[1]
    if not isinstance(model, RoutableModel) or model.heavy is None:
        raise SystemExit(f"routing: {path} is not a routed model (model.config.route_high is 0)")
    return model.eval()


@torch.inference_mode()
def score_set(model: RoutableModel, folder: Path) -> dict:
    """Routing decisions and the four scores (light, heavy, routed, oracle) over one paired set."""
    low, high = model.config.route_low, model.config.route_high
    rows = []
    for rain_file, clean_file in pair_folders(*find_paired_layout(folder)):
        clean = read_rgb(clean_file)
        x = to_batch(read_rgb(rain_file))[0]
        padded = pad_to_multiple(x, model.size_divisor)[0]  # as the engine hands it over
        r = float(rain_intensity(model.expert, padded)[0])
        row = {"image": rain_file.name, "intensity": r, "weight": float(route_weight(torch.tensor(r), low, high))}
        for label, run in (("light", model.expert), ("heavy", model.heavy), ("routed", model)):
            out = run(padded).background[0, :, : x.shape[-2], : x.shape[-1]].permute(1, 2, 0).numpy()
            row[label] = (psnr(out, clean, quantize=True), ssim(out, clean, quantize=True))  # as derain bench
        row["oracle"] = max(row["light"], row["heavy"])
        rows.append(row)
    weights = [r["weight"] for r in rows]
    summary = {
        "set": folder.name,
        "images": len(rows),
        "intensity_median": statistics.median(r["intensity"] for r in rows),
        "intensity_range": (min(r["intensity"] for r in rows), max(r["intensity"] for r in rows)),
        "light_share": sum(w == 0 for w in weights) / len(rows),
        "heavy_share": sum(w == 1 for w in weights) / len(rows),
    }
    for label in ("light", "heavy", "routed", "oracle"):
        summary[label] = tuple(float(np.mean([r[label][i] for r in rows])) for i in (0, 1))
    return summary | {"rows": rows}


@torch.inference_mode()
def path_ms(model: RoutableModel, runs: int) -> dict[str, dict[str, float]]:
    """Median engine ms of each routing path (see :data:`PATHS`) at each of :data:`SIZES`."""
    engine = Engine.for_model(model, torch.device("cpu"), torch.float32)
    engine.prepare(model)
    config = model.config
    out: dict[str, dict[str, float]] = {}
    for path, (low, high) in PATHS.items():
        model.config = dataclasses.replace(config, route_low=low, route_high=high)
        out[path] = {}
        for label, (h, w) in SIZES.items():
            x = torch.rand(1, 3, h, w)
            out[path][label] = median_ms(lambda x=x: engine.run(make_step(model), x), runs)
    model.config = config
    return out


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [
        f"# {result['model']} intensity routing: decisions, quality, cost",
        "",
        f"`{result['weights']}`: ramp {result['low']:.4f} -> {result['high']:.4f}. {env['cpu_model']}, "
        f"{result['threads']} threads, torch {env['torch_version']}, commit {(env['git_commit'] or 'unknown')[:12]}, "
        f"{env['date']}. PSNR-Y / SSIM-Y, the field's protocol; oracle: the better expert per image (by PSNR-Y).",
        "",
        "| set | images | intensity median (range) | light / ramp / heavy | light expert | heavy expert | routed "
        "| oracle |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in result["sets"]:
        lo, hi = s["intensity_range"]
        shares = f"{s['light_share']:.0%} / {1 - s['light_share'] - s['heavy_share']:.0%} / {s['heavy_share']:.0%}"
        cells = [s["set"], str(s["images"]), f"{s['intensity_median']:.4f} ({lo:.4f}–{hi:.4f})", shares]
        cells += [f"{s[k][0]:.2f} / {s[k][1]:.4f}" for k in ("light", "heavy", "routed", "oracle")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| path | ms @512² | ms @1920×1080 |", "|---|---|---|"]
    for path, ms in result["ms"].items():
        lines.append(f"| {path} | {ms['512x512']:.0f} | {ms['1920x1080']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["php", "fastnet"], default="php", help="whose bundled file by default")
    parser.add_argument("--weights", type=Path, help="a routed file (default: the model's bundled file)")
    parser.add_argument("--sets", type=Path, nargs="+", default=DEFAULT_SETS, help="paired sets (rain/ + clean/)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per path and size (median)")
    parser.add_argument("--name", help="results file stem (default: <model>_routing)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = routed_model(args.model, args.weights)
    sets = [score_set(model, folder) for folder in args.sets]
    result = {
        "model": args.model,
        "weights": str(args.weights or f"bundled {args.model}"),
        "low": model.config.route_low,
        "high": model.config.route_high,
        "threads": args.threads,
        "environment": environment(torch.device("cpu")),
        "sets": sets,
        "ms": path_ms(model, args.runs),
    }
    name = args.name or f"{args.model}_routing"
    for path in write_results(REPO / "benchmarks" / "results", name, jsonable(result), markdown(result)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
