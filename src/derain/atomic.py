"""Atomic file writes, with no heavy imports: checkpoints, reports and the trainer need only this.

A write goes to a temp file in the destination folder and is renamed into place, so a crash or a
failed encode never leaves a half-written file or destroys an older one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from derain.errors import WriteError

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path`` (same suffix, so encoders pick the format); rename on success.

    On any exception the temp file is removed and ``path`` is left as it was.

    Raises:
        WriteError: the destination folder cannot be created.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(f"{path}: cannot create folder {path.parent} ({e.strerror})") from None
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
