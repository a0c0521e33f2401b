"""Pair rainy (or derained) files with their clean references by the field's naming conventions.

Deraining datasets ship pairs in two folders whose file names match up to a marker word:

=======================  =====================================  ==================
dataset style            rainy side                             clean side
=======================  =====================================  ==================
same name                ``rain/001.png``                       ``clean/001.png``
Rain100L/H, Rain12, SPA  ``rain/rain-001.png``                  ``norain/norain-001.png``
SIRR                     ``input/input1.png``                   ``label/norain1.png``
suffix marker            ``rainy/street_rain.png``              ``gt/street_gt.png``
Rain1400 (14 : 1)        ``rainy_image/901_3.jpg``              ``ground_truth/901.jpg``
=======================  =====================================  ==================

A file's *pair key* is its lower-cased stem with one marker word (:data:`NAME_MARKERS`) removed
from the front (``rain-``, ``norain_``, ``input12``) or the back (``_rain``, ``-gt``), and numbers
compared by value (``1`` == ``001``). Matching tries, in order: the exact file name, the pair key
(so a derained ``.png`` pairs with a clean ``.jpg``), then ``NAME_K`` -> ``NAME`` for datasets with
several rainy renderings per clean image. Anything left over on either side is an error: a score
over a silently smaller set would not be the number the user asked for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from derain.data.io import list_images
from derain.errors import DatasetError

__all__ = ["CLEAN_DIRS", "NAME_MARKERS", "RAIN_DIRS", "find_paired_layout", "pair_folders", "pair_key"]

#: Sub-folder names (case-insensitive) that hold the rainy inputs of a paired dataset.
RAIN_DIRS = ("rain", "rainy", "input", "rainy_image")
#: Sub-folder names (case-insensitive) that hold the clean references.
CLEAN_DIRS = ("clean", "norain", "gt", "groundtruth", "ground_truth", "target", "label")
#: Marker words stripped from file stems to form the pair key (longest first, so ``norain`` wins).
NAME_MARKERS = ("groundtruth", "norain", "target", "input", "clean", "label", "rainy", "rain", "gt")

_MARKER = "|".join(NAME_MARKERS)
_PREFIX = re.compile(rf"^(?:{_MARKER})(?:[-_ ]+|(?=\d))", re.IGNORECASE)  # rain-001, norain_1, input12
_SUFFIX = re.compile(rf"[-_ ]+(?:{_MARKER})$", re.IGNORECASE)  # street_rain, street-gt
_VARIANT = re.compile(r"(.+)_\d+")  # Rain1400: 901_3 -> 901
_SHOWN = 5  # unpaired names listed in an error before "+N more"


def pair_key(path: str | Path) -> str:
    """The name two files must share to pair: stem without marker word, numbers by value.

    >>> pair_key("rain/rain-001.png"), pair_key("clean/norain1.jpg"), pair_key("x/Street_GT.png")
    ('1', '1', 'street')
    """
    stem = Path(path).stem.lower()
    stripped = _PREFIX.sub("", stem, count=1)
    if stripped == stem:
        stripped = _SUFFIX.sub("", stem, count=1)
    key = stripped or stem
    return str(int(key)) if key.isdigit() else key


def pair_folders(a_dir: str | Path, b_dir: str | Path) -> list[tuple[Path, Path]]:
    """Pair every image in ``a_dir`` with one in ``b_dir`` (e.g. derained outputs with clean refs).

    Args:
        a_dir: folder of rainy inputs or derained outputs (which keep the rainy names).
        b_dir: folder of clean references.

    Returns:
        ``(a_file, b_file)`` pairs in ``a_dir``'s natural file order.

    Raises:
        DatasetError: a folder has no images, a file pairs ambiguously, or files are left unpaired.
        ImageReadError: a folder does not exist.
    """
    a_dir, b_dir = Path(a_dir), Path(b_dir)
    a_files, b_files = _images(a_dir), _images(b_dir)
    by_name = {p.name: p for p in b_files}
    by_key: dict[str, list[Path]] = defaultdict(list)
    for path in b_files:
        by_key[pair_key(path)].append(path)
    pairs: list[tuple[Path, Path]] = []
    unpaired: list[Path] = []
    claimed: dict[Path, Path] = {}
    for a in a_files:
        b, shared = _match(a, by_name, by_key, b_dir)
        if b is None:
            unpaired.append(a)
            continue
        if not shared and claimed.setdefault(b, a) is not a:
            raise DatasetError(f"{a}: pairs with {b} which {claimed[b].name} already pairs with (ambiguous names)")
        pairs.append((a, b))
    used = {b for _, b in pairs}
    unused = [p for p in b_files if p not in used]
    if unpaired or unused:
        raise DatasetError(f"{a_dir}: cannot pair with {b_dir}: {_leftovers(a_dir, unpaired, b_dir, unused)}")
    return pairs


def find_paired_layout(root: str | Path) -> tuple[Path, Path]:
    """Find the ``(rain_dir, clean_dir)`` sub-folders of a paired dataset root.

    Raises:
        DatasetError: ``root`` is not a folder, or it has not exactly one rain and one clean sub-folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder")
    subdirs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    found = []
    for role, names in (("rain", RAIN_DIRS), ("clean", CLEAN_DIRS)):
        hits = [subdirs[n] for n in names if n in subdirs]
        if len(hits) != 1:
            detail = ", ".join(p.name for p in hits) if hits else "none"
            raise DatasetError(
                f"{root}: expected one {role} sub-folder named {'/'.join(names)}, found {detail}; "
                "or pass the two folders explicitly"
            )
        found.append(hits[0])
    return found[0], found[1]


def _images(folder: Path) -> list[Path]:
    files = list_images(folder)
    if not files:
        raise DatasetError(f"{folder}: no images found")
    return files


def _match(a: Path, by_name: dict[str, Path], by_key: dict[str, list[Path]], b_dir: Path) -> tuple[Path | None, bool]:
    """Partner of ``a`` and whether it may be shared (the many-to-one ``NAME_K`` rule)."""
    if a.name in by_name:
        return by_name[a.name], False
    key = pair_key(a)
    candidates = by_key.get(key, [])
    if len(candidates) > 1:
        raise DatasetError(f"{a}: ambiguous, pairs with {', '.join(p.name for p in candidates)} in {b_dir}")
    if candidates:
        return candidates[0], False
    variant = _VARIANT.fullmatch(key)
    shared = by_key.get(variant.group(1), []) if variant else []
    return (shared[0], True) if len(shared) == 1 else (None, False)


def _leftovers(a_dir: Path, unpaired: Sequence[Path], b_dir: Path, unused: Sequence[Path]) -> str:
    """'3 unpaired in a/ (x.png, ...); 1 unpaired in b/ (y.png)' for whichever sides have any."""
    parts = []
    for folder, files in ((a_dir, unpaired), (b_dir, unused)):
        if files:
            names = ", ".join(p.name for p in files[:_SHOWN])
            more = f", +{len(files) - _SHOWN} more" if len(files) > _SHOWN else ""
            parts.append(f"{len(files)} unpaired in {folder.name}/ ({names}{more})")
    return "; ".join(parts)
