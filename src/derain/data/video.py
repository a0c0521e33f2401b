"""Video reading/writing through PyAV; a folder of frames works wherever a video file does.

Every bad file becomes a one-line error naming it. Outputs are written to a temp file and renamed
into place (:mod:`derain.atomic`), so a crash never leaves a half-written video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from derain.atomic import atomic_path
from derain.data.io import (
    IMAGE_SUFFIXES,
    UNSUPPORTED_IMAGE_SUFFIXES,
    _check_file,
    _one_line,
    _quantize,
    _to_pixels,
    list_images,
    read_rgb,
    write_image,
)
from derain.errors import VideoReadError, WriteError
from derain.outputs import atomic_dir

__all__ = ["DEFAULT_FPS", "FPS_FILE", "VIDEO_SUFFIXES", "VideoInfo", "VideoWriter", "open_video"]

#: Frame rate of a frame folder without an ``fps.txt``.
DEFAULT_FPS = 25
VIDEO_SUFFIXES: frozenset[str] = frozenset({".mp4", ".mkv", ".mov"})
#: Suffixes of formats derain cannot write: a frame folder must not be named like one of these files.
_FILE_LIKE_SUFFIXES = IMAGE_SUFFIXES | UNSUPPORTED_IMAGE_SUFFIXES | {".avi", ".webm", ".wmv", ".flv", ".m4v", ".mpg"}
_FILE_LIKE_SUFFIXES |= {".mpeg", ".ts", ".3gp", ".ogv", ".mts", ".m2ts", ".vob"}
#: Frame rate file of a frame folder (``25`` or ``30000/1001``).
FPS_FILE = "fps.txt"


@dataclass
class VideoInfo:
    """What :func:`open_video` knows before decoding; ``frame_count`` is None when the container omits it.

    ``audio``: the file has an audio stream. ``variable_rate``: its frame timestamps are not evenly
    spaced (a phone's variable frame rate); ``fps`` is then the average.
    """

    fps: float
    width: int
    height: int
    frame_count: int | None
    audio: bool = False
    variable_rate: bool = False


def open_video(path: str | Path) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """Open a video file (via PyAV) or a folder of frames; frames are decoded lazily.

    A frame folder holds image files in natural order (:func:`list_images`); its frame rate is read
    from an ``fps.txt`` inside (a number or a fraction such as ``30000/1001``), else ``DEFAULT_FPS``.

    Returns:
        The video's info and an iterator of float32 ``(H, W, 3)`` RGB frames in [0, 1].

    Raises:
        VideoReadError: missing, empty, undecodable, no video stream, or frames of different sizes.
    """
    path = Path(path)
    if path.is_dir():
        return _open_frame_folder(path)
    _check_file(path, VideoReadError)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(path, "no video stream in file")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            if not rate or not stream.width:
                raise VideoReadError(path, "video stream has no frame rate or size")
            audio = bool(container.streams.audio)
            info = VideoInfo(float(rate), stream.width, stream.height, stream.frames or None, audio, _is_vfr(container))
    except av.error.FFmpegError as e:
        raise VideoReadError(path, f"cannot open video ({_one_line(e)})") from None
    return info, _decode_video(path)


#: Packets whose timestamps :func:`_is_vfr` looks at (demuxed, not decoded: cheap).
_VFR_PACKETS = 5000


def _is_vfr(container: av.container.InputContainer) -> bool:
    """True when frame durations differ by more than half the shortest one (not jitter of rounding)."""
    stream = container.streams.video[0]
    stamps = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            stamps.append(packet.pts)
        if len(stamps) >= _VFR_PACKETS:
            break
    steps = np.diff(np.unique(stamps))
    return bool(len(steps) > 1 and steps.max() > 1.5 * steps.min())


def _decode_video(path: Path) -> Iterator[np.ndarray]:
    """Decode frames one by one; the file is opened only when iteration starts."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0
    except av.error.FFmpegError as e:
        raise VideoReadError(path, f"cannot decode video ({_one_line(e)})") from None


def _open_frame_folder(folder: Path) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    frames = list_images(folder)
    if not frames:
        raise VideoReadError(folder, "folder holds no image frames")
    first = read_rgb(frames[0])
    info = VideoInfo(_read_fps(folder), first.shape[1], first.shape[0], len(frames))
    return info, _iter_frames(frames, first)


def _read_fps(folder: Path) -> float:
    fps_file = folder / FPS_FILE
    if not fps_file.is_file():
        return float(DEFAULT_FPS)
    text = fps_file.read_text(encoding="utf-8").strip()
    try:
        fps = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise VideoReadError(fps_file, f"frame rate {text!r} is not a number such as 25 or 30000/1001") from None
    if fps <= 0:
        raise VideoReadError(fps_file, f"frame rate must be positive, got {text!r}")
    return float(fps)


def _iter_frames(frames: list[Path], first: np.ndarray) -> Iterator[np.ndarray]:
    yield first
    for frame_path in frames[1:]:
        rgb = read_rgb(frame_path)
        if rgb.shape != first.shape:
            size, expected = f"{rgb.shape[1]}x{rgb.shape[0]}", f"{first.shape[1]}x{first.shape[0]}"
            raise VideoReadError(frame_path, f"frame is {size} but the first frame is {expected}")
        yield rgb


def _exact_rate(fps: float | Fraction | str) -> Fraction:
    """``29.97`` -> 2997/100 and ``30000/1001`` stays exact, so container time bases do not drift."""
    rate = Fraction(fps).limit_denominator(100_000)
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return rate


#: libx264's speed presets, fastest first.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
#: About half the encoding time of libx264's own default (``medium``) at the same crf and fidelity
#: (``benchmarks/x264_presets.py``): encoding competes with the model for the same cores.
DEFAULT_X264_PRESET = "faster"


class VideoWriter:
    """Write frames to a video file or a frame folder; use as a context manager.

    ``.mp4``/``.mkv``/``.mov`` -> H.264 (libx264, ``crf`` and speed ``x264_preset``) through PyAV,
    encoded to a temp file and renamed on close. Even sizes use ``yuv420p`` (plays everywhere); odd
    sizes use ``yuv444p`` so the frame size is kept exactly (some players, e.g. browsers, cannot play
    4:4:4 H.264). A path without a video or image suffix becomes a folder of 8-bit PNG frames
    ``000001.png``, ... plus ``fps.txt``,
    written under a temp name and renamed on close (:func:`derain.outputs.atomic_dir`), so a failure
    leaves nothing behind. An existing folder is replaced only with ``overwrite`` and only if derain
    wrote all of it; other suffixes (``.avi``, ``.gif``, ...) are refused rather than silently
    becoming a folder. ``audio_from``: a video file whose audio track is copied (not re-encoded) into
    a video file output; :attr:`audio_kept` says whether that worked (a container that cannot hold
    the codec, or a frame folder, cannot keep it).

    Raises:
        WriteError: a suffix derain cannot write.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float | Fraction | str,
        *,
        crf: int = 18,
        x264_preset: str = DEFAULT_X264_PRESET,
        overwrite: bool = False,
        audio_from: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.audio_from = None if audio_from is None else Path(audio_from)
        self.audio_kept = False
        self._tmp: Path | None = None
        self.rate = _exact_rate(fps)
        self.crf = crf
        if x264_preset not in X264_PRESETS:
            raise WriteError(f"x264 preset {x264_preset!r}: choose from {', '.join(X264_PRESETS)}")
        self.x264_preset = x264_preset
        self.overwrite = overwrite
        self.is_file = self.path.suffix.lower() in VIDEO_SUFFIXES
        if not self.is_file and self.path.suffix.lower() in _FILE_LIKE_SUFFIXES:
            raise WriteError(
                f"{self.path}: cannot write {self.path.suffix} files; use .mp4, .mkv or .mov, or a folder name "
                "without a suffix for PNG frames"
            )
        self.frame_count = 0
        self._size: tuple[int, int] | None = None  # (H, W) of the first frame
        self._stack = ExitStack()
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._folder: Path | None = None  # the temp frame folder while writing

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
        else:
            self._abort(exc_type, exc, tb)

    def write(self, rgb: np.ndarray) -> None:
        """Append one float ``(H, W, 3)`` RGB frame in [0, 1]; all frames must have the first one's size."""
        pixels = _to_pixels(rgb, None)
        if self._size is None:
            self._size = pixels.shape[:2]
            self._start()
        elif pixels.shape[:2] != self._size:
            raise ValueError(f"{self.path}: frame {self.frame_count + 1} is {pixels.shape[:2]}, expected {self._size}")
        self.frame_count += 1
        if self.is_file:
            self._encode(av.VideoFrame.from_ndarray(_quantize(pixels, np.uint8), format="rgb24"))
        else:
            write_image(self._folder / f"{self.frame_count:06d}.png", pixels)

    def close(self) -> None:
        """Flush the encoder and move the finished file into place.

        Raises:
            WriteError: no frame was written.
        """
        if self.frame_count == 0:
            raise WriteError(f"{self.path}: no frames were written")
        with self._stack:  # renames the temp file on success, removes it if flushing fails
            if self._container is not None:
                self._encode(None)
                self._container.close()
                self._container = None
                if self.audio_from is not None:
                    self.audio_kept = _remux_audio(self._tmp, self.audio_from)

    def _start(self) -> None:
        """Open the output on the first frame, once the size is known."""
        if not self.is_file:
            self._folder = self._stack.enter_context(atomic_dir(self.path, replace=self.overwrite))
            (self._folder / FPS_FILE).write_text(f"{self.rate}\n", encoding="utf-8")
            return
        if "libx264" not in av.codecs_available:
            raise WriteError(f"{self.path}: this PyAV build has no libx264 encoder; write a frame folder instead")
        height, width = self._size
        tmp = self._tmp = self._stack.enter_context(atomic_path(self.path))
        try:
            self._container = av.open(str(tmp), mode="w")
        except (av.error.FFmpegError, OSError) as e:
            self._abort(type(e), e, e.__traceback__)
            raise WriteError(f"{self.path}: cannot create video file ({_one_line(e)})") from None
        stream = self._container.add_stream("libx264", rate=self.rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        stream.options = {"crf": str(self.crf), "preset": self.x264_preset}
        self._stream = stream

    def _encode(self, frame: av.VideoFrame | None) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _abort(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Drop a half-written video file (the temp is removed; an older file at ``path`` survives)."""
        try:
            if self._container is not None:
                self._container.close()
        finally:
            self._container = None
            self._stack.__exit__(exc_type, exc, tb)


def _remux_audio(video: Path, source: Path) -> bool:
    """Copy ``source``'s first audio track into the finished ``video`` file (packets copied, not re-encoded).

    Returns False, leaving ``video`` as it was, when ``source`` has no audio or the container
    cannot hold its codec.
    """
    out_tmp = video.with_name(f".{video.stem}.audio{video.suffix}")
    try:
        with av.open(str(source)) as src, av.open(str(video)) as vin:
            if not src.streams.audio:
                return False
            with av.open(str(out_tmp), mode="w") as out:
                streams = {"video": out.add_stream_from_template(vin.streams.video[0])}
                streams["audio"] = out.add_stream_from_template(src.streams.audio[0])
                for container, stream in ((vin, vin.streams.video[0]), (src, src.streams.audio[0])):
                    for packet in container.demux(stream):
                        if packet.dts is None:
                            continue
                        packet.stream = streams[stream.type]
                        out.mux(packet)
        os.replace(out_tmp, video)
        return True
    except (av.error.FFmpegError, ValueError):
        out_tmp.unlink(missing_ok=True)
        return False
