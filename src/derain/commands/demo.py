"""``derain demo``: rain on a bundled photo, derained, shown side by side with PSNR-Y.

Until the model has bundled weights the demo shows the rainy/clean pair only and says so; once
``weights/manifest.json`` lists the model, the derained panel appears on its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from derain.commands._options import add_model_options, load_from_args

__all__ = ["PHOTO", "SEED", "add_parser", "run"]

#: The bundled photo (Kodak image 7; provenance in ``assets/README.md``).
PHOTO = Path(__file__).resolve().parents[1] / "assets" / "kodim07.jpg"
#: Seed of the synthetic rain, so every run shows the same picture.
SEED = 7
_LABEL_HEIGHT = 20


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="derain a bundled photo with synthetic rain",
        description="Add rain (preset 'medium') to a bundled photo, derain it, write DIR/demo.png, print PSNR-Y.",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("derain-demo"), metavar="DIR", help="output folder")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write ``demo.png`` and print the scores; returns 0."""
    from derain.checkpoint import bundled_weights
    from derain.data.io import read_rgb, write_image
    from derain.data.synth import add_rain
    from derain.eval.metrics import psnr

    clean = read_rgb(PHOTO)
    rainy = add_rain(clean, "medium", np.random.default_rng(SEED)).image
    panels = {"rainy input": rainy}
    print(f"rainy input: PSNR-Y {psnr(rainy, clean):.2f} dB")
    if args.weights is None and bundled_weights(args.model) is None:
        print(f"note: {args.model!r} has no bundled weights yet; showing the rainy/clean pair only")
    else:
        derainer = load_from_args(args)
        panels[f"derained ({derainer.name})"] = derained = derainer(rainy)
        print(f"derained ({derainer.name}): PSNR-Y {psnr(derained, clean):.2f} dB")
    panels["clean"] = clean
    path = write_image(args.output / "demo.png", _side_by_side(panels))
    print(f"wrote {path}")
    return 0


def _side_by_side(panels: dict[str, np.ndarray]) -> np.ndarray:
    """Concatenate same-sized float images left to right, each under a small text label."""
    labelled = [np.concatenate([_label(text, img.shape[1]), img], axis=0) for text, img in panels.items()]
    return np.concatenate(labelled, axis=1)


def _label(text: str, width: int) -> np.ndarray:
    """A white ``(_LABEL_HEIGHT, width, 3)`` float strip with ``text`` in black (PIL's default font)."""
    strip = Image.new("RGB", (width, _LABEL_HEIGHT), "white")
    ImageDraw.Draw(strip).text((4, 4), text, fill="black")
    return np.asarray(strip, dtype=np.float32) / 255.0
