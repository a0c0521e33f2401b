"""``derain video IN -o OUT``: derain a video file or frame folder, keeping frame rate and size.

Single-image models run frame by frame; video models carry their recurrent state from frame to
frame (protocol in :mod:`derain.inference.video`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from derain.commands._options import add_model_options, load_from_args
from derain.errors import WriteError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain video``."""
    parser = subparsers.add_parser(
        "video",
        help="derain a video (file or frame folder)",
        description="Derain IN (.mp4/.mkv/.mov or a folder of frames) into OUT (a video file or a frame folder).",
    )
    parser.add_argument("input", type=Path, metavar="IN", help="video file or folder of frames")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="video file or frame folder")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Derain every frame in order; returns 0."""
    from tqdm import tqdm

    from derain.data.video import VideoWriter, open_video

    _check_output(args.input, args.output, overwrite=args.overwrite)
    info, frames = open_video(args.input)
    derainer = load_from_args(args)
    start = time.perf_counter()
    with VideoWriter(args.output, info.fps) as writer:
        progress = tqdm(derainer.frames(frames), total=info.frame_count, desc="derain", unit="frame", file=sys.stderr)
        for frame in progress:
            writer.write(frame)
    elapsed = time.perf_counter() - start
    print(
        f"{writer.frame_count} frame(s) of {info.width}x{info.height} at {info.fps:g} fps derained into "
        f"{args.output}, {elapsed:.1f} s"
    )
    return 0


def _check_output(src: Path, dst: Path, *, overwrite: bool) -> None:
    """Refuse to write over the input, and over an existing output unless asked.

    Raises:
        WriteError: ``dst`` is ``src``, or exists without ``overwrite``.
    """
    if dst.resolve() == src.resolve():
        raise WriteError(f"{dst}: would overwrite the input; choose another output")
    if dst.exists() and not overwrite:
        raise WriteError(f"{dst}: already exists (pass --overwrite to replace it)")
