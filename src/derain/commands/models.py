"""``derain models``: every registered model with its size and, where it ships weights, its manifest entry.

The manifest (:mod:`derain.checkpoint`) is the only source of what is printed about weights: file,
SHA-256, recipe, training data and its licence, development scores.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]

_INDENT = "  "


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain models``."""
    parser = subparsers.add_parser(
        "models",
        help="list registered models and their bundled weights",
        description="List registered models: parameter count and, from the weights manifest, the bundled file, "
        "its SHA-256, recipe, training data, data licence and development-benchmark scores.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one block per model; returns 0."""
    import torch

    from derain.checkpoint import bundled_weights, file_config, load_weights_file, read_manifest
    from derain.eval.cost import count_params
    from derain.models import MODELS, build_model

    manifest = read_manifest()
    for name in MODELS.names():
        path = bundled_weights(name) if name in manifest else None
        # The bundled file's own architecture (a routed php holds two networks), else the registry default.
        config = file_config(name, load_weights_file(path)[1]) if path is not None else None
        with torch.device("meta"):  # no memory, no init: only the shapes are needed
            params = count_params(build_model(name, config))
        print(f"{name}  {_human(params)} params")
        for label, value in _entry_lines(manifest.get(name)):
            print(f"{_INDENT}{label:<9} {value}")
    return 0


def _entry_lines(entry: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) rows of one manifest entry."""
    if entry is None:
        return [("weights", "none bundled")]
    data = entry.get("data", {})
    scores = entry.get("dev_scores", {})
    return [
        ("weights", f"{entry['file']}  sha256 {entry.get('sha256', '?')}"),
        ("recipe", f"{entry.get('recipe') or '?'}, {entry.get('steps', '?')} steps"),
        ("data", f"{data.get('kind', '?')} from {data.get('clean_dir') or data.get('root') or '?'}"),
        ("licence", entry.get("data_licence") or "?"),
        ("dev", ", ".join(f"{s} {v['psnr_y']:.2f} / {v['ssim_y']:.4f}" for s, v in sorted(scores.items())) or "—"),
    ]


def _human(count: int) -> str:
    """``1234567`` -> ``1.23 M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.2f} {unit}"
    return str(count)
