"""``derain train CONFIG [--set KEY=VALUE ...] [--resume]``: run a training recipe.

Relative paths in the config are resolved from the current directory (run the bundled configs from
the repository root). For several GPUs or CPU processes, launch it under torchrun::

    torchrun --nproc_per_node 2 -m derain train configs/baseline.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derain.train.config import TrainConfig

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
    _check_outputs(config)
    result = train(config, resume=args.resume, recipe=str(args.config))
    if result.export_path is not None:
        print(f"exported {result.export_path}")
    best = f", best val PSNR-Y {result.best_psnr:.2f} dB" if result.best_psnr is not None else ""
    print(f"trained {result.steps} steps in {result.run_dir}{best}")
    return 0


def _check_outputs(config: TrainConfig) -> None:
    """The run folder and the export must be writable: found now, not after the first checkpoint interval.

    Raises:
        ConfigError: ``output.dir`` is a file or cannot be created; ``output.export.path`` is a
            folder or cannot be written.
    """
    from derain.errors import ConfigError, WriteError
    from derain.outputs import check_writable

    run_dir = Path(config.output.dir)
    targets = [("output.dir", run_dir / "checkpoints")]
    if config.output.export is not None:
        export = Path(config.output.export.path)
        if export.is_dir():
            raise ConfigError(f"output.export.path: {export} is a folder; give the .safetensors file to write")
        targets.append(("output.export.path", export))
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"output.dir: {run_dir} is a file; the run folder must be a folder")
    for key, probe in targets:
        try:
            check_writable(probe)
        except WriteError as exc:
            raise ConfigError(f"{key}: {exc}") from None
