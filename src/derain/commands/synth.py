"""``derain synth pairs|timelapse|video|sheet``: synthetic rain from a folder of clean photos.

The command only parses; :mod:`derain.data.synth.writers` writes (layouts described there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from derain.commands._options import LazyChoices, non_negative_float, non_negative_int, positive_float, positive_int
from derain.errors import ConfigError

__all__ = ["add_parser", "run"]


def _unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def _jpeg_quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be a JPEG quality from 1 to 100, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain synth``."""
    parser = subparsers.add_parser(
        "synth",
        help="synthesise rainy pairs, time-lapse scenes or moving videos from clean photos",
        description="Synthesise rainy pairs, time-lapse scenes or moving videos from clean photos, or a "
        "contact sheet of samples next to real rainy photos; the same command and seed give byte-identical files.",
    )
    parser.add_argument(
        "kind", choices=("pairs", "timelapse", "video", "sheet"), help="what to synthesise (sheet: look only)"
    )
    parser.add_argument("--clean", type=Path, required=True, metavar="DIR", help="folder of clean photos")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--count", type=positive_int, default=10, metavar="N", help="pairs, scenes or clips")
    parser.add_argument(
        "--preset", metavar="NAME", help="rain preset or mixture (default: real-mix-2 for pairs/sheet, else medium)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed")
    parser.add_argument("--frames", type=positive_int, metavar="N", help="frames per scene/clip (8 / 24)")
    parser.add_argument("--size", type=positive_int, metavar="S", help="shrink photos to at most S px long side")
    parser.add_argument(
        "--composition",
        choices=LazyChoices("derain.data.synth", "COMPOSITIONS"),
        default="additive",
        metavar="NAME",
        help="rain model: %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--haze", type=_unit_float, default=0.0, help="veiling haze strength (pairs only)")
    parser.add_argument(
        "--streaks",
        type=Path,
        metavar="DIR",
        help="streak textures: a preset uses them instead, a mixture draws from them",
    )
    parser.add_argument("--real", type=Path, metavar="DIR", help="real rainy photos to show first in each row (sheet)")
    parser.add_argument(
        "--motion",
        choices=LazyChoices("derain.data.synth", "MOTIONS"),
        default="pan",
        metavar="KIND",
        help="camera motion (video): %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--fps", type=positive_float, default=25.0, help="frame rate recorded for videos")
    parser.add_argument(
        "--exposure-drift", type=non_negative_float, default=0.0, help="per-frame log-gain std (timelapse)"
    )
    parser.add_argument("--noise", type=non_negative_float, default=0.0, help="sensor noise std (timelapse)")
    parser.add_argument("--jpeg", type=_jpeg_quality, metavar="Q", help="JPEG quality 1-100 of each frame (timelapse)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out folder that derain synth wrote"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write ``args.count`` items and a contact sheet (or only the sheet); returns the exit code."""
    from derain.data.synth.writers import SynthRequest, write_dataset, write_sheet

    _check_kind_options(args)
    names = ("clean", "out", "count", "preset", "seed", "frames", "size", "composition", "haze", "streaks", "motion")
    names += ("fps", "exposure_drift", "noise", "jpeg", "real", "overwrite")
    request = SynthRequest(kind=args.kind, **{name: getattr(args, name) for name in names})
    if args.kind == "sheet":
        write_sheet(request)
        print(f"wrote a contact sheet of {args.count} sample(s) to {args.out / 'contact_sheet.png'}")
        return 0
    skipped = write_dataset(request)
    for problem in skipped:
        print(f"derain: skipped {problem}", file=sys.stderr)
    print(f"wrote {args.count} {args.kind} item(s) to {args.out}")
    return 1 if skipped else 0


def _check_kind_options(args: argparse.Namespace) -> None:
    """Refuse options that the chosen kind would silently ignore."""
    only = {"--haze": ("pairs", "sheet"), "--exposure-drift": ("timelapse",), "--noise": ("timelapse",)}
    only |= {"--jpeg": ("timelapse",), "--real": ("sheet",)}
    for option, kinds in only.items():
        if getattr(args, option[2:].replace("-", "_")) and args.kind not in kinds:
            raise ConfigError(f"{option}: applies to `derain synth {'/'.join(kinds)}` only, not {args.kind}")
