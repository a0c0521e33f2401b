"""``derain train CONFIG [--set KEY=VALUE ...] [--resume]``: run a training recipe.

Relative paths in the config are resolved from the current directory (run the bundled configs from
the repository root). For several GPUs or CPU processes, launch it under torchrun::

    torchrun --nproc_per_node 2 -m derain train configs/baseline.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain train``."""
    parser = subparsers.add_parser(
        "train",
        help="train a model from a YAML recipe",
        description="Train a model from a YAML recipe (see configs/). Writes checkpoints, log.jsonl and "
        "curves.png to output.dir and exports the best weights to output.export.",
    )
    parser.add_argument("config", type=Path, help="training recipe (YAML)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.lr=2e-4 (repeatable; VALUE is YAML)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in output.dir")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load and validate the config, train, print where the results are; returns the exit code."""
    from derain.train.config import load_config
    from derain.train.trainer import train

    config = load_config(args.config, args.overrides)
    result = train(config, resume=args.resume, recipe=str(args.config))
    if result.export_path is not None:
        print(f"exported {result.export_path}")
    best = f", best val PSNR-Y {result.best_psnr:.2f} dB" if result.best_psnr is not None else ""
    print(f"trained {result.steps} steps in {result.run_dir}{best}")
    return 0
