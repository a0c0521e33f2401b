"""Live video sources: raw RGB frames on a pipe (stdin) and stream URLs that PyAV opens.

Both are read once, front to back, one frame at a time, so they work on sources that cannot be
rewound or reopened (a pipe from ``ffmpeg -f rawvideo``, a camera's RTSP feed). Files and frame
folders go through :func:`derain.data.video.open_video` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import av
import numpy as np

from derain.data.video import DEFAULT_FPS, VideoInfo
from derain.errors import VideoReadError

__all__ = ["STDIN", "is_url", "open_url", "parse_size", "read_raw_frames"]

#: The input name that means "raw frames on standard input".
STDIN = "-"


def is_url(source: str) -> bool:
    """True for ``scheme://...`` sources (rtsp, rtmp, http(s), udp, ...): opened by PyAV, not as files."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.isalpha()


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)``; raises ValueError on anything else."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise ValueError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    return int(w), int(h)


def read_raw_frames(stream: BinaryIO, width: int, height: int, *, name: str = "stdin") -> Iterator[np.ndarray]:
    """Yield float32 ``(height, width, 3)`` frames from packed rgb24 bytes until the stream ends.

    Raises:
        VideoReadError: the stream ends inside a frame (wrong size, or a cut-off writer).
    """
    size = width * height * 3
    index = 0
    while True:
        chunk = _read_exactly(stream, size)
        if not chunk:
            return
        if len(chunk) < size:
            raise VideoReadError(
                name,
                f"stream ended inside frame {index + 1} ({len(chunk)} of {size} bytes; is the size {width}x{height}?)",
            )
        index += 1
        yield np.frombuffer(chunk, np.uint8).reshape(height, width, 3).astype(np.float32) / 255.0


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: pipes return short reads, so read until full or end of stream."""
    parts, got = [], 0
    while got < size:
        part = stream.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def open_url(url: str) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """Open a stream URL once; frames decode lazily and the connection closes when they end.

    Raises:
        VideoReadError: the URL cannot be opened or has no video stream.
    """
    try:
        container = av.open(url, timeout=30)
    except av.error.FFmpegError as e:
        raise VideoReadError(url, f"cannot open stream ({' '.join(str(e).split())})") from None
    if not container.streams.video:
        container.close()
        raise VideoReadError(url, "no video stream")
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    info = VideoInfo(float(rate) if rate else float(DEFAULT_FPS), stream.width, stream.height, stream.frames or None)
    return info, _decode(container, stream, url)


def _decode(container: av.container.InputContainer, stream: av.VideoStream, url: str) -> Iterator[np.ndarray]:
    try:
        with container:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0
    except av.error.FFmpegError as e:
        raise VideoReadError(url, f"cannot decode stream ({' '.join(str(e).split())})") from None
