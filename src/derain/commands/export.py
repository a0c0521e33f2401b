"""``derain export MODEL --format onnx|torchscript -o FILE``: a deployable model file.

See :mod:`derain.export` for the graph's contract (``(1, 3, H, W)`` in [0, 1] -> background) and
when H/W stay dynamic.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from derain.commands._options import LazyChoices, add_named_model_options, build_named_model
from derain.errors import ConfigError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX or TorchScript",
        description="Export a model: input (1, 3, H, W) RGB in [0, 1], output the derained background.",
    )
    add_named_model_options(parser)
    parser.add_argument(
        "--format",
        choices=LazyChoices("derain.export", "FORMATS"),
        metavar="FORMAT",
        help="%(choices)s (default: from the output suffix, .onnx or .pt)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="exported file")
    parser.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        default=(256, 256),
        metavar=("H", "W"),
        help="example size; multiples of the model's size divisor keep H/W dynamic (default 256 256)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the weights, export, print what was written; returns the exit code."""
    from derain.export import FORMATS, export_model
    from derain.outputs import check_new_file

    fmt = args.format or _format_from_suffix(args.output, FORMATS)
    other = {suffix: name for name, suffix in FORMATS.items() if name != fmt}
    if args.output.suffix.lower() in other:
        raise ConfigError(
            f"{args.output}: the suffix says {other[args.output.suffix.lower()]}, --format says {fmt}; "
            f"use {FORMATS[fmt]} or drop --format"
        )
    check_new_file(args.output, overwrite=args.overwrite, inputs=(args.weights,) if args.weights else ())
    model = build_named_model(args)
    result = export_model(model, args.output, format=fmt, size=tuple(args.size), model_name=args.model)
    h, w = result.size
    shape = f"H, W multiples of {result.size_divisor}" if result.dynamic else f"fixed {h}x{w}"
    print(f"{result.path}: {fmt}, input (1, 3, H, W) in [0, 1], {shape}")
    return 0


def _format_from_suffix(path: Path, formats: dict[str, str]) -> str:
    for fmt, suffix in formats.items():
        if path.suffix.lower() == suffix:
            return fmt
    raise ConfigError(f"{path}: cannot tell the format from the suffix; pass --format {' or '.join(formats)}")
