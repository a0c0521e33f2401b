"""The output rule every command follows (see docs/architecture.md, "Outputs").

1. Never write over an input. 2. Never delete what derain did not create: a folder derain writes as
a whole carries a marker file (:data:`MARKER`) listing the files it owns, and only a folder whose
every file is listed there may be replaced. 3. Write atomically: files through
:func:`derain.data.io.atomic_path`, folders through :func:`atomic_dir` (filled under a temp name,
renamed into place). 4. Refuse to overwrite without ``--overwrite``. 5. Check writability up front
(:func:`check_writable`), before any slow work.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from derain.errors import WriteError

__all__ = ["MARKER", "atomic_dir", "check_folder_output", "check_new_file", "check_writable", "owned_files"]

#: Marker file of a folder derain wrote as a whole: ``{"owner": "derain", "files": [relative paths]}``.
MARKER = ".derain-owned.json"


def check_writable(path: str | Path, *, what: str = "output") -> None:
    """Fail now, not after the work, if ``path`` could not be created.

    Walks up to the nearest existing ancestor: it must be a folder we may write into (a file on the
    way, e.g. ``notes.txt/out.png``, is reported as such).

    Raises:
        WriteError: naming ``path`` and the ancestor that blocks it.
    """
    path = Path(path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise WriteError(f"{path}: cannot write the {what} here, {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WriteError(f"{path}: cannot write the {what} here, folder {parent} is not writable")


def check_new_file(path: str | Path, *, overwrite: bool, inputs: tuple[Path, ...] = (), what: str = "output") -> None:
    """An output file must not be an input, must not exist without ``overwrite``, and must be writable.

    Raises:
        WriteError: one line naming ``path``.
    """
    path = Path(path)
    for src in inputs:
        if path.resolve() == Path(src).resolve():
            raise WriteError(f"{path}: would overwrite the input {src}; choose another output")
    if path.is_dir():
        raise WriteError(f"{path}: is a folder; the {what} must be a file path")
    if path.exists() and not overwrite:
        raise WriteError(f"{path}: already exists (pass --overwrite to replace it)")
    check_writable(path, what=what)


def owned_files(folder: str | Path) -> set[str] | None:
    """Relative paths that ``folder``'s marker says derain wrote, or None without a (readable) marker."""
    marker = Path(folder) / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    return {str(f) for f in files} if isinstance(files, list) else None


def _foreign_files(folder: Path) -> list[str]:
    """Files under ``folder`` that its marker does not list (all of them when there is no marker)."""
    owned = owned_files(folder) or set()
    present = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()]
    return sorted(f for f in present if f != MARKER and f not in owned)


def check_folder_output(path: str | Path, *, replace: bool) -> None:
    """The up-front check of :func:`atomic_dir`: may a folder output be written at ``path``?

    Raises:
        WriteError: ``path`` is a file, a non-empty folder without ``replace``, a folder holding
            files derain did not write, or not writable.
    """
    path = Path(path)
    _check_replaceable(path, replace)
    check_writable(path)


def _check_replaceable(path: Path, replace: bool) -> None:
    if not path.exists():
        return
    if not path.is_dir():
        raise WriteError(f"{path}: is a file; this output is a folder, choose another name")
    if not any(path.iterdir()):
        return
    if not replace:
        raise WriteError(f"{path}: already exists (pass --overwrite to replace it)")
    foreign = _foreign_files(path)
    if foreign:
        more = f" (+{len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise WriteError(
            f"{path}: holds files derain did not write ({foreign[0]}{more}); it is never deleted, "
            "move them away or choose another output folder"
        )


@contextmanager
def atomic_dir(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temp folder next to ``path``; on success it becomes ``path`` in one rename.

    The finished folder gets a :data:`MARKER` listing every file in it. An existing ``path`` is
    replaced only with ``replace`` and only if derain owns all of its files (an empty folder is
    always fine); this is checked before the caller does any work. On any exception the temp
    folder is removed and ``path`` is left as it was.

    Raises:
        WriteError: ``path`` is a file, exists without ``replace``, holds files derain did not
            write, or its parent cannot be written.
    """
    path = Path(path)
    check_folder_output(path, replace=replace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(f"{path}: cannot create folder {path.parent} ({e.strerror})") from None
    tag = uuid.uuid4().hex[:12]
    tmp = path.with_name(f".{path.name}.{tag}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if not p.is_dir())
        (tmp / MARKER).write_text(json.dumps({"owner": "derain", "files": files}, indent=1) + "\n", encoding="utf-8")
        _swap_in(tmp, path, tag)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, path: Path, tag: str) -> None:
    """Rename ``tmp`` to ``path``; an old (checked, derain-owned) ``path`` is moved aside first, then deleted."""
    old = None
    if path.exists():
        _check_replaceable(path, replace=True)  # still ours after the work?
        old = path.with_name(f".{path.name}.{tag}.old")
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
