"""One exception family for every user-facing failure.

The CLI catches :class:`DerainError` and prints ``derain: error: <message>`` on one line with a
non-zero exit, so every message must name the file (or key) and the problem by itself.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DatasetError",
    "DerainError",
    "FileReadError",
    "ImageReadError",
    "ImageTooLargeError",
    "ImageValueError",
    "ModelError",
    "VideoReadError",
    "WriteError",
]


class DerainError(Exception):
    """Base class: a user mistake or bad input, reported without a traceback."""


class FileReadError(DerainError):
    """An input file cannot be read; keeps the path and the problem apart for callers that report them."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class ImageReadError(FileReadError):
    """An image is missing, empty, truncated or not an image."""


class ImageTooLargeError(ImageReadError):
    """An image has more pixels than the configured limit (decompression-bomb guard)."""


class ImageValueError(DerainError, ValueError):
    """An in-memory image (API input) is empty, not finite or outside the value range its type implies."""


class VideoReadError(FileReadError):
    """A video file or frame folder cannot be decoded."""


class WriteError(DerainError):
    """An output cannot be written (or would overwrite an input)."""


class DatasetError(DerainError):
    """A dataset folder has the wrong layout or unpaired files."""


class ConfigError(DerainError):
    """A config file or ``--set`` override has an unknown key or a bad value."""


class ModelError(DerainError):
    """Unknown model name, or weights that do not fit the model."""
