"""``derain video IN -o OUT``: derain a video file or frame folder, keeping frame rate and size.

Single-image models run frame by frame; video models carry their recurrent state from frame to
frame (protocol in :mod:`derain.inference.video`). An audio track is copied into a video file
output (packets copied, not re-encoded). What the output cannot keep is said on stderr: audio
that the output cannot hold, a variable frame rate (written constant), and a video that decodes to
fewer frames than its header lists (truncated) gives a warning with both counts and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from derain.commands._options import add_model_options, load_from_args
from derain.errors import WriteError

if TYPE_CHECKING:
    from derain.data.video import VideoInfo

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
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists (a frame folder only if derain wrote it)"
    )
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Derain every frame in order; returns 0, or 1 if the input decoded to fewer frames than it lists."""
    from tqdm import tqdm

    from derain.data.video import VideoWriter, open_video

    _check_output(args.input, args.output, overwrite=args.overwrite)
    VideoWriter(args.output, 25)  # refuses suffixes it cannot write before anything is decoded
    info, frames = open_video(args.input)
    _notes(args.input, args.output, info)
    derainer = load_from_args(args)
    start = time.perf_counter()
    audio = args.input if info.audio else None
    with VideoWriter(args.output, info.fps, overwrite=args.overwrite, audio_from=audio) as writer:
        progress = tqdm(derainer.frames(frames), total=info.frame_count, desc="derain", unit="frame", file=sys.stderr)
        for frame in progress:
            writer.write(frame)
    elapsed = time.perf_counter() - start
    if info.audio and not writer.audio_kept:
        print(
            f"derain: note: {args.input} has an audio track that {args.output} cannot hold; video only", file=sys.stderr
        )
    print(
        f"{writer.frame_count} frame(s) of {info.width}x{info.height} at {info.fps:g} fps derained into "
        f"{args.output}, {elapsed:.1f} s"
    )
    if info.frame_count is not None and writer.frame_count < info.frame_count:
        print(
            f"derain: warning: {args.input}: decoded {writer.frame_count} of the {info.frame_count} frames its "
            "header lists (truncated or damaged file?)",
            file=sys.stderr,
        )
        return 1
    return 0


def _notes(src: Path, dst: Path, info: VideoInfo) -> None:
    """One line for each thing the output will not keep (audio is reported after writing)."""
    if info.variable_rate:
        print(
            f"derain: note: {src} has a variable frame rate; {dst} is written at a constant {info.fps:g} fps "
            "(the average), so frame timing can drift from the original",
            file=sys.stderr,
        )


def _check_output(src: Path, dst: Path, *, overwrite: bool) -> None:
    """Refuse to write over the input, over an existing output unless asked, or where nothing can be written.

    Raises:
        WriteError: ``dst`` is ``src``, exists without ``overwrite``, is a folder derain did not
            write, or its location is not writable.
    """
    from derain.data.video import VIDEO_SUFFIXES
    from derain.outputs import check_folder_output, check_new_file

    if dst.resolve() == src.resolve():
        raise WriteError(f"{dst}: would overwrite the input; choose another output")
    if dst.suffix.lower() in VIDEO_SUFFIXES:
        check_new_file(dst, overwrite=overwrite, inputs=(src,))
    else:
        check_folder_output(dst, replace=overwrite)
