"""``derain pseudo-gt``: a clean image from a static rainy sequence, or a paired dataset from many.

    derain pseudo-gt SEQUENCE -o CLEAN.png             # frame folder or video file
    derain pseudo-gt --dataset SEQ_ROOT -o PAIRS_ROOT  # one sub-folder or video per scene

A frame folder with a ``rain/`` sub-folder (the layout ``derain synth timelapse`` writes, with the
true ``clean.png`` beside it) is read from ``rain/``, as the time-lapse trainer reads it.

The dataset form writes ``PAIRS_ROOT/rain/<scene>_<k>.png`` (every frame), ``clean/<scene>.png``
(its sequence's estimate; the pairing rule ``NAME_K -> NAME`` pairs them) and ``mask/<scene>_<k>.png``
(the binary rain mask ``M`` of SPANet's attention loss: mean absolute difference above
``--mask-threshold``). A moving camera or a scene cut is refused with one line; in dataset mode
that scene is skipped and the exit code is 1. See :mod:`derain.data.pseudo_gt` for the method.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from derain.errors import DerainError, WriteError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain pseudo-gt``."""
    parser = subparsers.add_parser(
        "pseudo-gt",
        help="clean image from a static rainy sequence (SPANet's percentile method); --dataset for pairs",
        description="Estimate the rain-free background of a static rainy frame sequence or video.",
    )
    parser.add_argument("sequence", type=Path, nargs="?", help="frame folder or video file")
    parser.add_argument("--dataset", type=Path, metavar="SEQ_ROOT", help="folder of sequences -> paired dataset")
    parser.add_argument("-o", "--out", type=Path, required=True, help="CLEAN image, or PAIRS_ROOT with --dataset")
    parser.add_argument("--method", choices=("percentile", "median", "mean"), default="percentile")
    parser.add_argument("--regions", type=int, default=1, metavar="N", help="p_hat per cell of an NxN grid")
    parser.add_argument("--bin-width", type=int, default=8, metavar="L", help="intensity levels per mode bin")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="use the first N frames")
    parser.add_argument("--mask-threshold", type=float, default=None, help="rain mask threshold (dataset mode)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the estimate(s); returns the exit code."""
    from derain.data.pseudo_gt import PseudoGTOptions

    if (args.sequence is None) == (args.dataset is None):
        raise DerainError("pseudo-gt: give either SEQUENCE or --dataset SEQ_ROOT")
    try:
        options = PseudoGTOptions(method=args.method, regions=args.regions, bin_width=args.bin_width)
    except ValueError as exc:
        raise DerainError(f"pseudo-gt: {exc}") from None
    if args.max_frames is not None and args.max_frames < 3:
        raise DerainError("--max-frames: must be >= 3")
    if args.sequence is not None:
        return _single(args.sequence, args.out, options, args.max_frames)
    return _dataset(args.dataset, args.out, options, args.max_frames, args.mask_threshold)


def _single(sequence: Path, out: Path, options, max_frames: int | None) -> int:
    from derain.data.io import IMAGE_SUFFIXES, write_image

    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise WriteError(f"{out}: not an image file name (use e.g. clean.png)")
    if sequence.is_dir() and out.resolve().parent == sequence.resolve():
        raise WriteError(f"{out}: inside the frame folder it is estimated from; write it elsewhere")
    result, _ = _estimate(sequence, options, max_frames, keep_frames=False)
    write_image(out, result.clean)
    print(f"{out}: {_summary(result)}")
    return 0


def _estimate(sequence: Path, options, max_frames: int | None, *, keep_frames: bool):
    """``(result, frames)``: the estimate, and the uint8 frames when asked (dataset mode)."""
    import numpy as np

    from derain.data.datasets.timelapse import scene_frame_dir
    from derain.data.pseudo_gt import check_static, estimate_background, open_sequence

    if sequence.is_dir():
        sequence = scene_frame_dir(sequence)  # derain synth timelapse's layout: frames in rain/, clean.png beside
    with open_sequence(sequence, max_frames=max_frames) as (frames, small):
        check_static(small, max(frames.shape[1:3]), sequence, options)
        result = estimate_background(frames, options)
        return result, (np.array(frames) if keep_frames else None)


def _summary(result) -> str:
    p = "" if result.percentile is None else f", p_hat {', '.join(f'{v:g}' for v in result.percentile.ravel())}"
    return f"{result.frames} frames{p}"


def _dataset(root: Path, out: Path, options, max_frames: int | None, threshold: float | None) -> int:
    import sys

    import torch

    from derain.data.datasets.timelapse import scene_frame_dir
    from derain.data.io import list_images, write_image
    from derain.data.video import VIDEO_SUFFIXES
    from derain.losses.attention import DEFAULT_MASK_THRESHOLD, rain_mask

    if not root.is_dir():
        raise DerainError(f"{root}: not a folder of sequences")
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise WriteError(f"{out}: inside SEQ_ROOT {root}; write the pairs elsewhere")
    if any(list_images(out / sub) for sub in ("rain", "clean", "mask") if (out / sub).is_dir()):
        raise WriteError(f"{out}: already holds a dataset; choose an empty folder")
    scenes = sorted(
        p
        for p in root.iterdir()
        if not p.name.startswith(".")
        and ((p.is_dir() and list_images(scene_frame_dir(p))) or p.suffix.lower() in VIDEO_SUFFIXES)
    )
    if not scenes:
        raise DerainError(f"{root}: no frame folders or videos inside")
    threshold = DEFAULT_MASK_THRESHOLD if threshold is None else threshold
    failed = 0
    for scene in scenes:
        try:
            result, frames = _estimate(scene, options, max_frames, keep_frames=True)
        except DerainError as exc:
            print(f"derain: skipped {exc}", file=sys.stderr)
            failed += 1
            continue
        name = scene.stem
        write_image(out / "clean" / f"{name}.png", result.clean)
        clean = torch.from_numpy(result.clean).permute(2, 0, 1)[None]
        for k, frame in enumerate(frames, start=1):
            rgb = frame.astype("float32") / 255.0
            write_image(out / "rain" / f"{name}_{k}.png", rgb)
            mask = rain_mask(torch.from_numpy(rgb).permute(2, 0, 1)[None], clean, threshold)[0, 0].numpy()
            write_image(out / "mask" / f"{name}_{k}.png", mask[..., None].repeat(3, axis=2), grayscale=True)
        print(f"{scene}: {_summary(result)} -> {len(frames)} pairs")
    print(f"wrote {len(scenes) - failed} of {len(scenes)} sequence(s) to {out}")
    return 1 if failed else 0
