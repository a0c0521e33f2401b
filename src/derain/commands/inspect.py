"""``derain inspect MODEL IMAGE -o DIR``: look inside a model on one image.

For ``memory`` (the paper's Fig. 3) it writes, for every memory item, the item's read weight at
each 1/8-scale position, upsampled to the image size and drawn as a heat map over the image
(``item_NN.png``); for ``spanet`` the four attention maps and the direction weights
(:mod:`derain.commands.inspect_spanet`). Both also write the estimated rain layer (``rain.png``,
``clip(R, 0, 1)``) and the derained image (``background.png``). Existing files of those names are
replaced only with ``--overwrite``, and never the input image itself. All item maps share one colour
scale (the minimum to the maximum read weight over all items), so they can be compared with each other.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from derain.commands._options import add_named_model_options, build_named_model, positive_int
from derain.errors import ModelError

if TYPE_CHECKING:  # heavy modules are imported when the command runs, not when the parser is built
    import numpy as np
    import torch

__all__ = ["add_parser", "heat_overlay", "run"]

#: Share of the heat map in the overlay (the rest is the greyed image).
_HEAT_ALPHA = 0.6


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain inspect``."""
    parser = subparsers.add_parser(
        "inspect",
        help="write a model's internals on one image (memory: read weights per item; spanet: attention maps)",
        description="Write per-item memory read-weight heat maps, the rain layer and the result as PNGs.",
    )
    add_named_model_options(parser)
    parser.add_argument("image", type=Path, help="input image")
    parser.add_argument("-o", "--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument("--overwrite", action="store_true", help="replace PNGs of the same names in DIR")
    parser.add_argument(
        "--max-side", type=positive_int, default=1024, metavar="N", help="downscale larger images to this side first"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the model once on the image and write the PNGs; returns the exit code."""
    import torch

    from derain.data.arrays import fit_within, to_chw, to_hwc
    from derain.data.io import read_rgb, write_image
    from derain.outputs import check_new_file, check_writable

    check_writable(args.out / "rain.png")
    model = build_named_model(args).eval()
    rgb = fit_within(read_rgb(args.image), args.max_side)
    x = to_chw(rgb)[None]
    if hasattr(model, "sam"):  # spanet: attention maps and direction weights
        from derain.commands.inspect_spanet import write_spanet

        print(write_spanet(model, x, rgb, args.out, overwrite=args.overwrite, image=args.image))
        return 0
    with torch.inference_mode():
        out = model(x)
    weights = out.read_weights
    if weights is None:
        raise ModelError(f"{args.model}: model has no memory read weights to inspect (built with use_memory=false?)")
    h, w = rgb.shape[:2]
    maps = _upsample(weights, h, w, model.size_divisor)
    names = [*(f"item_{m:02d}.png" for m in range(len(maps))), "rain.png", "background.png"]
    for name in names:  # all checked before the first is written: never the input, nothing replaced unasked
        check_new_file(args.out / name, overwrite=args.overwrite, inputs=(args.image,))
    lo, hi = float(maps.min()), float(maps.max())
    for m, item_map in enumerate(maps):
        write_image(args.out / f"item_{m:02d}.png", heat_overlay(rgb, (item_map - lo) / max(hi - lo, 1e-12)))
    write_image(args.out / "rain.png", to_hwc(out.rain[0]).clip(0.0, 1.0))
    write_image(args.out / "background.png", to_hwc(out.background[0]))
    print(f"wrote {len(maps)} item maps, rain.png and background.png to {args.out} (read weights {lo:.4f}..{hi:.4f})")
    return 0


def heat_overlay(rgb: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """Blend a ``(H, W)`` map in [0, 1] (viridis) over a greyed ``(H, W, 3)`` image in [0, 1]."""
    import numpy as np
    from matplotlib import colormaps

    colour = colormaps["viridis"](np.clip(heat, 0.0, 1.0))[..., :3].astype(np.float32)
    grey = rgb.mean(axis=2, keepdims=True)
    return (_HEAT_ALPHA * colour + (1 - _HEAT_ALPHA) * grey).astype(np.float32)


def _upsample(weights: torch.Tensor, h: int, w: int, divisor: int) -> np.ndarray:
    """``(1, M, h', w')`` read weights of the padded input -> ``(M, H, W)`` over the image itself."""
    from torch.nn import functional as F

    th, tw = -(-h // divisor), -(-w // divisor)  # 1/8-scale cells that cover the unpadded image
    cells = weights[..., :th, :tw]
    full = F.interpolate(cells, size=(th * divisor, tw * divisor), mode="bilinear", align_corners=False)
    return full[0, :, :h, :w].numpy()
