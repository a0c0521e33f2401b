"""``derain score OUTPUTS CLEAN``: PSNR/SSIM of derained images against clean references.

Files pair by the field's naming conventions (:mod:`derain.data.pairing`); images are scored as
read (8-bit files are already quantised) with the protocol in :data:`derain.eval.metrics.PROTOCOL`.
The mean is the mean of per-image values, as the field's tables report it.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from derain.commands._options import non_negative_int
from derain.errors import DatasetError

__all__ = ["add_parser", "run"]

_HEADERS = {"psnr_y": "PSNR-Y", "ssim_y": "SSIM-Y", "psnr_rgb": "PSNR-RGB"}
_DIGITS = {"psnr_y": 2, "ssim_y": 4, "psnr_rgb": 2}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain score``."""
    parser = subparsers.add_parser(
        "score",
        help="PSNR/SSIM of derained images against clean references",
        description="Score OUTPUTS against CLEAN, pairing files by name; the protocol is printed with the scores.",
    )
    parser.add_argument("outputs", type=Path, help="folder of derained images (or a dataset root with rain/ + clean/)")
    parser.add_argument("clean", type=Path, nargs="?", help="folder of clean references (omit for a dataset root)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    parser.add_argument(
        "--crop-border", type=non_negative_int, default=0, metavar="N", help="ignore N pixels at each image border"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score every pair and print a table (or JSON); returns the exit code."""
    from derain.data.pairing import find_paired_layout, pair_folders
    from derain.eval.metrics import METRIC_NAMES, PROTOCOL

    outputs, clean = (args.outputs, args.clean) if args.clean else find_paired_layout(args.outputs)
    rows = [_score_pair(a, b, args.crop_border) for a, b in pair_folders(outputs, clean)]
    mean = {name: float(np.mean([row[name] for row in rows])) for name in METRIC_NAMES}
    if args.json:
        report = {
            "protocol": PROTOCOL,
            "outputs": str(outputs),
            "clean": str(clean),
            "crop_border": args.crop_border,
            "count": len(rows),
            "mean": mean,
            "images": rows,
        }
        print(json.dumps(_finite_or_null(report), indent=2))
    else:
        print(_table(rows, mean, args.crop_border))
    return 0


def _score_pair(output: Path, clean: Path, crop_border: int) -> dict:
    """One table row: both paths and the metrics; size problems name both files."""
    from derain.data.io import read_rgb
    from derain.eval.metrics import SSIM_WINDOW, score_images

    pred, target = read_rgb(output), read_rgb(clean)
    if pred.shape != target.shape:
        raise DatasetError(f"{output}: size {_size(pred)} does not match {clean} ({_size(target)})")
    if min(pred.shape[:2]) - 2 * crop_border < SSIM_WINDOW:
        raise DatasetError(
            f"{output}: {_size(pred)} image is smaller than the {SSIM_WINDOW}x{SSIM_WINDOW} SSIM window "
            f"after --crop-border {crop_border}"
        )
    return {"output": str(output), "clean": str(clean), **score_images(pred, target, crop_border=crop_border)}


def _table(rows: list[dict], mean: dict[str, float], crop_border: int) -> str:
    """Fixed-width per-image table, the mean over the images, and the protocol line."""
    from derain.eval.metrics import METRIC_NAMES, PROTOCOL

    labels = [Path(row["output"]).name for row in rows] + [f"mean ({len(rows)} images)"]
    width = max(len(label) for label in [*labels, "image"])
    lines = [f"{'image':<{width}}" + "".join(f"  {_HEADERS[n]:>8}" for n in METRIC_NAMES)]
    for label, values in zip(labels, [*rows, mean], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"  {values[n]:>8.{_DIGITS[n]}f}" for n in METRIC_NAMES))
    lines.insert(-1, "-" * len(lines[0]))
    lines.append(f"protocol: {PROTOCOL}; crop border {crop_border}px")
    return "\n".join(lines)


def _finite_or_null(value: object) -> object:
    """Replace inf/nan (identical images give inf PSNR) with null, which strict JSON parsers accept."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_null(v) for v in value]
    return value


def _size(img: np.ndarray) -> str:
    return f"{img.shape[1]}x{img.shape[0]}"
