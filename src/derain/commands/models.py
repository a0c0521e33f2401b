"""``derain models``: the registered models, their size, bundled weights and development scores."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "count_parameters", "run"]

_HEADERS = ("model", "params", "weights", "dev scores (PSNR-Y / SSIM-Y)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain models``."""
    parser = subparsers.add_parser(
        "models",
        help="list registered models and their bundled weights",
        description="List registered models: parameter count, bundled weights file and development-benchmark scores.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table; returns 0."""
    from derain.checkpoint import read_manifest
    from derain.models import MODELS

    manifest = read_manifest()
    rows = [_row(name, manifest.get(name, {})) for name in MODELS.names()]
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    for row in [_HEADERS, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def count_parameters(name: str) -> int:
    """Parameter count of registered model ``name``, built on the meta device (no memory, no init)."""
    import torch

    from derain.models import build_model

    with torch.device("meta"):
        model = build_model(name)
    return sum(p.numel() for p in model.parameters())


def _row(name: str, entry: dict) -> tuple[str, str, str, str]:
    scores = entry.get("dev_scores", {})
    text = ", ".join(f"{s}: {v['psnr_y']:.2f} / {v['ssim_y']:.4f}" for s, v in sorted(scores.items())) or "—"
    return name, _human(count_parameters(name)), entry.get("file", "—"), text


def _human(count: int) -> str:
    """``1234567`` -> ``1.23 M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f} {unit}"
    return str(count)
