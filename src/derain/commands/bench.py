"""``derain bench``: quality on paired sets, cost per model, grids on real photos, one report folder.

Writes ``report.md``, ``report.json`` (per-image scores and the environment) and ``index.html`` with
``grids/<set>/*.png``; see :mod:`derain.eval.bench` for what is measured and how.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from derain.commands._options import (
    add_device_option,
    add_self_ensemble_option,
    add_tile_option,
    parse_weights,
    positive_int,
)
from derain.errors import ConfigError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain bench``."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark models: PSNR/SSIM on paired sets, params/GFLOPs/CPU ms, grids on real photos",
        description="Benchmark models and write a report folder; the reports state the scoring protocol.",
    )
    parser.add_argument(
        "--models", default="", help="comma-separated registered names with bundled weights, or 'all' (default: none)"
    )
    parser.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="benchmark a .safetensors file under LABEL (repeatable; a LABEL in --models replaces its weights)",
    )
    parser.add_argument("--sets", nargs="+", type=Path, default=[], metavar="DIR", help="paired sets (rain/ + clean/)")
    parser.add_argument(
        "--video", nargs="+", type=Path, default=[], metavar="DIR", help="paired clips (rain/ + clean/ frames)"
    )
    parser.add_argument("--real", nargs="+", type=Path, default=[], metavar="DIR", help="real rainy photos for grids")
    parser.add_argument("--out", type=Path, required=True, metavar="REPORT_DIR", help="report folder")
    add_device_option(parser, note=" (cost is always measured on the CPU)")
    add_tile_option(parser)
    add_self_ensemble_option(parser)
    parser.add_argument("--max-images", type=positive_int, default=None, metavar="N", help="first N images per set")
    parser.add_argument("--cost-size", type=positive_int, default=512, metavar="PX", help="side for GFLOPs/CPU ms")
    parser.add_argument("--cost-runs", type=positive_int, default=3, metavar="N", help="timed CPU runs (median)")
    parser.add_argument(
        "--update-manifest", action="store_true", help="write bundled models' scores into the manifest's dev_scores"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the models, run the benchmark, write the report; returns the exit code."""
    from derain.eval.bench import bundled_models, load_models, run_bench, update_dev_scores
    from derain.eval.report import write_report

    if not args.sets and not args.real and not args.video:
        raise ConfigError("derain bench: nothing to do; pass --sets DIR..., --video DIR... and/or --real DIR...")
    if args.update_manifest and args.max_images is not None:
        raise ConfigError("--update-manifest: dev scores must cover whole sets; drop --max-images")
    if args.update_manifest and args.self_ensemble:
        raise ConfigError("--update-manifest: the manifest's dev scores are one plain pass; drop --self-ensemble")
    from derain.outputs import check_writable

    check_writable(args.out / "report.json", what="report")  # before minutes of benchmarking
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if names == ["all"]:
        names = bundled_models()
    models = load_models(
        names, parse_weights(args.weights), device=args.device, tile=args.tile, self_ensemble=args.self_ensemble
    )
    report = run_bench(
        models,
        args.sets,
        args.out,
        real=args.real,
        video=args.video,
        max_images=args.max_images,
        cost_size=args.cost_size,
        cost_runs=args.cost_runs,
        log=lambda msg: print(f"derain bench: {msg}", file=sys.stderr),
    )
    for path in write_report(report, args.out):
        print(path)
    if args.update_manifest:
        updated = update_dev_scores(report, models)
        print(f"manifest dev_scores updated: {', '.join(updated) or 'none (no bundled models)'}", file=sys.stderr)
    return 0
