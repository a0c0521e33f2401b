"""``derain video IN -o OUT``: derain a video file, frame folder, stream URL or raw pipe, keeping rate and size.

Single-image models run frame by frame; video models carry their recurrent state from frame to
frame (protocol in :mod:`derain.inference.video`), causally, so memory stays flat however long the
clip. ``IN`` may be ``-`` (packed rgb24 frames on stdin, ``--raw-size WxH``; no audio) or a URL PyAV
opens (``rtsp://``, ``http://``...; video only). ``--compare`` also writes an input | output
side-by-side video. An audio track is copied into a video file
output (packets copied, not re-encoded). What the output cannot keep is said on stderr: audio
that the output cannot hold, a variable frame rate (written constant), and a video that decodes to
fewer frames than its header lists (truncated) gives a warning with both counts and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from derain.commands._options import LazyChoices, add_model_options, load_from_args
from derain.errors import ConfigError, WriteError

if TYPE_CHECKING:
    import numpy as np

    from derain.data.video import VideoInfo, VideoWriter

__all__ = ["add_parser", "run"]

#: Frame rate assumed for raw stdin frames without ``--fps``.
DEFAULT_RAW_FPS = 25.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain video``."""
    parser = subparsers.add_parser(
        "video",
        help="derain a video (file or frame folder)",
        description="Derain IN (.mp4/.mkv/.mov or a folder of frames) into OUT (a video file or a frame folder).",
    )
    parser.add_argument(
        "input", metavar="IN", help="video file, folder of frames, stream URL, or - for raw rgb24 frames on stdin"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="video file or frame folder")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists (a frame folder only if derain wrote it)"
    )
    parser.add_argument(
        "--compare", type=Path, metavar="COMPARE", help="also write an input | output side-by-side video here"
    )
    parser.add_argument("--raw-size", metavar="WxH", help="frame size of raw frames on stdin (IN = -)")
    parser.add_argument(
        "--fps", type=float, metavar="FPS", help=f"frame rate of raw frames on stdin (default {DEFAULT_RAW_FPS})"
    )
    parser.add_argument(
        "--x264-preset",
        choices=LazyChoices("derain.data.video", "X264_PRESETS"),
        metavar="NAME",
        help="H.264 encoding speed: %(choices)s (default: faster; slower ones keep a little more detail)",
    )
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Derain every frame in order; returns 0, or 1 if the input decoded to fewer frames than it lists."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    from tqdm import tqdm

    from derain.data.live import STDIN, is_url
    from derain.data.video import VideoWriter
    from derain.inference.overlap import WriteBehind, read_ahead

    source = None if args.input == STDIN or is_url(args.input) else Path(args.input)
    for out in (args.output, args.compare):
        if out is not None:
            _check_output(source, out, overwrite=args.overwrite)
            VideoWriter(out, 25)  # refuses suffixes it cannot write before anything is decoded
    if args.compare is not None and args.compare.resolve() == args.output.resolve():
        raise WriteError(f"{args.compare}: --compare must differ from OUT")
    info, frames = _open_input(args, source)
    if source is not None:
        _notes(source, args.output, info)
    derainer = load_from_args(args)
    start = time.perf_counter()
    audio = source if info.audio else None
    with ExitStack() as stack:
        options = {"overwrite": args.overwrite}
        if args.x264_preset is not None:
            options["x264_preset"] = args.x264_preset
        writer = stack.enter_context(VideoWriter(args.output, info.fps, audio_from=audio, **options))
        compare = None
        if args.compare is not None:
            compare = stack.enter_context(VideoWriter(args.compare, info.fps, **options))
        pool = stack.enter_context(ThreadPoolExecutor(2, thread_name_prefix="derain-video-io"))
        behind = WriteBehind(pool)  # encodes frame k while the model derains frame k + 1
        inputs: list[np.ndarray] = []
        derained = derainer.frames(_keep_last(read_ahead(frames, pool), inputs))
        progress = tqdm(derained, total=info.frame_count, desc="derain", unit="frame", file=sys.stderr)
        for frame in progress:
            behind.submit(_write, writer, compare, inputs.pop(), frame)
        behind.wait()
    elapsed = time.perf_counter() - start
    if info.audio and not writer.audio_kept:
        print(
            f"derain: note: {args.input} has an audio track that {args.output} cannot hold; video only", file=sys.stderr
        )
    print(
        f"{writer.frame_count} frame(s) of {info.width}x{info.height} at {info.fps:g} fps derained into "
        f"{args.output}, {elapsed:.1f} s" + (f"; side by side: {args.compare}" if args.compare else "")
    )
    if info.frame_count is not None and writer.frame_count < info.frame_count:
        print(
            f"derain: warning: {args.input}: decoded {writer.frame_count} of the {info.frame_count} frames its "
            "header lists (truncated or damaged file?)",
            file=sys.stderr,
        )
        return 1
    return 0


def _write(writer: VideoWriter, compare: VideoWriter | None, source: np.ndarray, derained: np.ndarray) -> None:
    """Encode one derained frame, and the side-by-side frame when asked (runs in the write-behind thread)."""
    import numpy as np

    writer.write(derained)
    if compare is not None:
        compare.write(np.concatenate([source, derained], axis=1))


def _keep_last(frames: Iterable[np.ndarray], kept: list[np.ndarray]) -> Iterator[np.ndarray]:
    """Pass frames through, keeping the one in flight for the side-by-side video (one frame of memory)."""
    for frame in frames:
        kept[:] = [frame]
        yield frame


def _open_input(args: argparse.Namespace, source: Path | None) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """``(VideoInfo, frames)`` of a file or folder, a stream URL, or raw rgb24 frames on stdin.

    Raises:
        ConfigError: ``--raw-size``/``--fps`` without ``IN = -``, or ``IN = -`` without ``--raw-size``.
    """
    from derain.data.live import STDIN, open_url, parse_size, read_raw_frames
    from derain.data.video import VideoInfo, open_video

    if args.input != STDIN:
        if args.raw_size or args.fps:
            raise ConfigError("--raw-size/--fps: only for raw frames on stdin (IN = -)")
        return open_video(source) if source is not None else open_url(args.input)
    if not args.raw_size:
        raise ConfigError("IN = -: raw frames on stdin need --raw-size WxH (packed rgb24)")
    try:
        width, height = parse_size(args.raw_size)
    except ValueError as e:
        raise ConfigError(f"--raw-size: {e}") from None
    fps = args.fps or DEFAULT_RAW_FPS
    if fps <= 0:
        raise ConfigError(f"--fps: must be positive, got {fps:g}")
    return VideoInfo(fps, width, height, None), read_raw_frames(sys.stdin.buffer, width, height)


def _notes(src: Path, dst: Path, info: VideoInfo) -> None:
    """One line for each thing the output will not keep (audio is reported after writing)."""
    if info.variable_rate:
        print(
            f"derain: note: {src} has a variable frame rate; {dst} is written at a constant {info.fps:g} fps "
            "(the average), so frame timing can drift from the original",
            file=sys.stderr,
        )


def _check_output(src: Path | None, dst: Path, *, overwrite: bool) -> None:
    """Refuse to write over the input, over an existing output unless asked, or where nothing can be written.

    Raises:
        WriteError: ``dst`` is ``src``, exists without ``overwrite``, is a folder derain did not
            write, or its location is not writable.
    """
    from derain.data.video import VIDEO_SUFFIXES
    from derain.outputs import check_folder_output, check_new_file

    if src is not None and dst.resolve() == src.resolve():
        raise WriteError(f"{dst}: would overwrite the input; choose another output")
    if dst.suffix.lower() in VIDEO_SUFFIXES:
        check_new_file(dst, overwrite=overwrite, inputs=(src,) if src is not None else ())
    else:
        check_folder_output(dst, replace=overwrite)
