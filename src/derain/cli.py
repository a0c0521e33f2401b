"""``derain`` command line.

Each subcommand lives in :mod:`derain.commands` as a module with ``add_parser(subparsers)``
(which sets ``func``) and is listed explicitly in :data:`COMMANDS`. User mistakes raise
:class:`~derain.errors.DerainError`; here they become one line on stderr and exit code 2, as do
argparse's usage errors; an ``OSError`` a command did not foresee (a full disk, say) is one line
naming the file too. Command modules import torch and the models inside ``func``, so building
the parser (``derain --help``) stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from derain import __version__
from derain.errors import DerainError

__all__ = ["main"]

#: Subcommand modules, in the order ``derain --help`` lists them.
COMMANDS = (
    "demo",
    "run",
    "video",
    "models",
    "score",
    "synth",
    "train",
    "adapt",
    "bench",
    "export",
    "inspect",
    "pseudo_gt",
)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line like every other error (subparsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``derain`` parser with every subcommand registered."""
    parser = _Parser(prog="derain", description="Remove rain from photos and videos.")
    parser.add_argument("--version", action="version", version=f"derain {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"derain.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (2: a user error, 130: interrupted)."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except DerainError as exc:
        print(f"derain: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system said no somewhere a command did not foresee: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"derain: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derain: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
