"""``derain adapt FOOTAGE... -o OUT.safetensors``: fine-tune a derainer on one camera's rainy footage.

No clean image is needed: frames of a static camera under changing rain train the ground-truth-free
models (``memory``, ``timelapse``) with the objective they were trained with (see
:mod:`derain.train.adapt`). Then ``derain run --weights OUT.safetensors ...`` uses the result.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from derain.commands._options import add_device_option, positive_float, positive_int

__all__ = ["add_parser", "run"]

DEFAULT_ADAPT_MODEL = "memory"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain adapt``."""
    parser = subparsers.add_parser(
        "adapt",
        help="fine-tune a derainer on your own static camera's rainy footage (no clean images needed)",
        description="Fine-tune a ground-truth-free derainer on rainy footage of static scenes. FOOTAGE is a "
        "folder of frames of one camera, a folder of such folders (one per camera), or a video file from "
        "a fixed camera. Writes OUT.safetensors and its manifest entry OUT.json.",
    )
    parser.add_argument("footage", type=Path, nargs="+", metavar="FOOTAGE", help="frame folder(s) or video(s)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="weights to write")
    parser.add_argument(
        "--model", default=DEFAULT_ADAPT_MODEL, help=f"memory or timelapse (default: {DEFAULT_ADAPT_MODEL})"
    )
    parser.add_argument(
        "--weights", type=Path, metavar="FILE", help="start from this .safetensors (default: the bundled weights)"
    )
    parser.add_argument("--steps", type=positive_int, default=300, help="optimiser steps (default 300)")
    parser.add_argument(
        "--lr", type=positive_float, default=1e-4, help="peak learning rate (default 1e-4, cosine decay)"
    )
    parser.add_argument("--batch-size", type=positive_int, default=4, help="frame pairs per step (default 4)")
    parser.add_argument("--crop", type=positive_int, help="training crop side (default: the model's recipe)")
    parser.add_argument(
        "--frames-per-video", type=positive_int, default=100, help="frames sampled from each video (default 100)"
    )
    parser.add_argument(
        "--run-dir", type=Path, help="checkpoints, logs and extracted frames (default: OUT without suffix + '_run')"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT (and its .json) if they exist")
    parser.add_argument(
        "--force", action="store_true", help="train even if the footage shows a moving camera (not recommended)"
    )
    add_device_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Collect the scenes, fine-tune, export; returns the exit code."""
    from derain.errors import ConfigError
    from derain.outputs import check_new_file, check_writable
    from derain.train.adapt import AdaptOptions, adapt_config, check_request, collect_scenes
    from derain.train.trainer import latest_checkpoint, train

    output: Path = args.output
    check_request(args.model, output)  # fail before decoding any video
    run_dir: Path = args.run_dir or output.with_name(output.stem + "_run")
    inputs = tuple(args.footage)
    for path in (output, output.with_suffix(".json")):
        check_new_file(path, overwrite=args.overwrite or args.resume, inputs=inputs)
    check_writable(run_dir / "checkpoints", what="run folder")
    if not args.resume and latest_checkpoint(run_dir) is not None:
        option = "--run-dir" if args.run_dir else "-o (its run folder)"
        raise ConfigError(
            f"{run_dir}: already holds checkpoints of an earlier run; pass --resume to continue it "
            f"or choose another {option}"
        )
    scenes = collect_scenes(args.footage, run_dir, args.frames_per_video)
    if not args.force:
        from derain.train.static_camera import check_static

        for scene in scenes:
            check_static(scene)
    options = AdaptOptions(steps=args.steps, lr=args.lr, batch_size=args.batch_size, crop=args.crop, device=args.device)
    config = adapt_config(args.model, scenes, output, run_dir, options, init=args.weights)
    try:
        result = train(config, resume=args.resume)
    except ConfigError as exc:  # the crop is the one data option adapt exposes: name it as the user typed it
        raise ConfigError(str(exc).replace("data.options.crop:", "--crop:", 1)) from None
    print(f"adapted {args.model} on {len(scenes)} scene(s) in {result.steps} steps: {result.export_path}")
    print(f"use it with: derain run --weights {result.export_path} INPUT -o OUTPUT")
    return 0
