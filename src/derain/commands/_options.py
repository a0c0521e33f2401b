"""Options several subcommands share, so each is spelled, checked and loaded the same way everywhere.

Nothing heavy is imported at module level: building the parser (``derain --help``) must not import
torch, so the loaders import the model code only when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from derain import DEFAULT_MODEL
from derain.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from derain.api import Derainer
    from derain.models import DerainModel

__all__ = [
    "LazyChoices",
    "add_device_option",
    "add_model_options",
    "add_named_model_options",
    "add_self_ensemble_option",
    "add_tile_option",
    "build_named_model",
    "load_from_args",
    "non_negative_float",
    "non_negative_int",
    "parse_weights",
    "positive_float",
    "positive_int",
]


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``/``--weights``, ``--tile``, ``--self-ensemble``, ``--device``: commands that derain images."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--model", default=DEFAULT_MODEL, help=f"registered model name (default: {DEFAULT_MODEL})")
    which.add_argument("--weights", type=Path, metavar="FILE", help="a .safetensors file from training")
    add_tile_option(parser)
    add_self_ensemble_option(parser)
    add_device_option(parser)


def load_from_args(args: argparse.Namespace) -> Derainer:
    """The derainer that :func:`add_model_options` asked for."""
    from derain.api import load
    from derain.errors import ConfigError
    from derain.inference import DEFAULT_OVERLAP

    if args.tile and args.tile <= 2 * DEFAULT_OVERLAP:
        raise ConfigError(
            f"--tile {args.tile}: must be 0 (whole image) or more than {2 * DEFAULT_OVERLAP} px "
            f"(neighbouring tiles share {DEFAULT_OVERLAP} px)"
        )
    return load(args.weights or args.model, args.device, tile=args.tile, self_ensemble=args.self_ensemble)


def add_tile_option(parser: argparse.ArgumentParser) -> None:
    """``--tile N`` (None: the engine's default)."""
    parser.add_argument(
        "--tile", type=non_negative_int, metavar="N", help="tile side in pixels (default 512; 0: whole image)"
    )


def add_self_ensemble_option(parser: argparse.ArgumentParser) -> None:
    """``--self-ensemble``: average with the left-right mirror's output (:class:`derain.inference.Engine`)."""
    parser.add_argument(
        "--self-ensemble",
        action="store_true",
        help="also derain each image mirrored left to right and average: twice the time, "
        "better on every set measured in benchmarks/results/self_ensemble.md (single-image models only)",
    )


def add_device_option(parser: argparse.ArgumentParser, *, note: str = "") -> None:
    """``--device``; ``note`` adds a command-specific remark to the help."""
    parser.add_argument("--device", default="auto", help=f"auto (default), cpu, cuda, cuda:N or mps{note}")


def add_named_model_options(parser: argparse.ArgumentParser) -> None:
    """Positional ``MODEL`` plus ``--weights FILE`` replacing its bundled weights (commands about one model)."""
    parser.add_argument("model", metavar="MODEL", help="registered model name")
    parser.add_argument(
        "--weights", type=Path, metavar="FILE", help=".safetensors file of MODEL (default: its bundled weights)"
    )


def build_named_model(args: argparse.Namespace) -> DerainModel:
    """``MODEL`` built from ``--weights`` or its bundled weights (in training mode, on the CPU).

    Raises:
        ModelError: unknown name, no bundled weights yet, or a weights file that holds another model.
    """
    from derain.checkpoint import build_from_file, bundled_weights

    path = args.weights if args.weights is not None else bundled_weights(args.model)
    if path is None:
        raise ModelError(f"{args.model}: no bundled weights yet; pass --weights FILE")
    name, model = build_from_file(path)
    if name != args.model:
        raise ModelError(f"{path}: holds weights of {name!r}, not {args.model!r}")
    return model


class LazyChoices:
    """Choices read from a module only when argparse checks a value or prints the command's help.

    Lets a parser offer e.g. :data:`derain.export.FORMATS` without importing torch to build it. Give
    the argument a ``metavar``: without one argparse lists the choices while the parser is built.
    """

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    @cached_property
    def _values(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self._module), self._name))

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (rejects nan and inf)."""
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (rejects nan and inf)."""
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parse_weights(items: list[str]) -> dict[str, Path]:
    """``["a=x.safetensors", ...]`` -> ``{"a": Path("x.safetensors")}``; labels must be unique."""
    parsed: dict[str, Path] = {}
    for item in items:
        label, sep, file = item.partition("=")
        if not sep or not label or not file:
            raise ConfigError(f"--weights {item!r}: expected LABEL=FILE")
        if label in parsed:
            raise ConfigError(f"--weights: label {label!r} given twice")
        parsed[label] = Path(file)
    return parsed
