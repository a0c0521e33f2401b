"""Check the training data once before the first step, so a bad file is a one-line error, not a worker crash.

Every image file the dataset will read is opened once (header and, for PNG, the chunk checksums:
no pixel decoding), with a progress bar when that takes more than a second. Then:

- images that one item combines (a pair, a time-lapse scene, a clip's frames) must share a size;
- ``crop: null`` with ``train.batch_size > 1`` needs images of one size (a batch stacks them);
- a crop may upscale an image by at most :data:`MAX_UPSCALE` (the datasets upscale images smaller
  than the crop; ``crop: 4000`` on phone photos would otherwise fill the memory until the process
  is killed).

Synthetic kinds are checked the same way on their clean photos; video files are left to the decoder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from derain.errors import ConfigError, DatasetError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from derain.train.config import TrainConfig

__all__ = ["MAX_UPSCALE", "build_checked_dataset", "check_data", "dataset_files"]

#: Largest factor by which a training crop may upscale an image's short side.
MAX_UPSCALE = 4.0
#: Seconds of header reading after which a progress bar appears.
_BAR_AFTER_S = 1.0


def build_checked_dataset(config: TrainConfig) -> Dataset:
    """The config's dataset, its files checked by :func:`check_data`.

    Raises:
        ConfigError: a bad dataset option, named ``data.options.<option>`` as in the config.
        DatasetError: see :func:`check_data`.
    """
    from derain.data.datasets import build_dataset

    options = config.data.options
    try:
        dataset = build_dataset(config.data.kind, **options)
    except ConfigError as exc:  # the datasets name options "<kind>.<option>"
        message, kind = str(exc), f"{config.data.kind}."
        raise ConfigError(f"data.options.{message[len(kind) :]}" if message.startswith(kind) else message) from None
    check_data(dataset, options.get("crop"), config.train.batch_size)
    return dataset


def dataset_files(dataset: object) -> list[list[Path]]:
    """Groups of image files a dataset reads; the files of one group must share a size."""
    if hasattr(dataset, "pairs"):
        return [list(pair) for pair in dataset.pairs]
    if hasattr(dataset, "scenes"):
        return [list(frames) for frames in dataset.scenes]
    if hasattr(dataset, "clips"):
        return [[*clip.rain, *(clip.clean or ())] for clip in dataset.clips if clip.rain]
    if hasattr(dataset, "photos"):
        return [[photo] for photo in dataset.photos]
    return []


def check_data(dataset: object, crop: int | None, batch_size: int) -> None:
    """Open every file once and check sizes against the crop and the batch.

    Raises:
        DatasetError: an unreadable file, or a group whose files differ in size (names the file).
        ConfigError: ``data.options.crop`` would upscale an image more than :data:`MAX_UPSCALE` times,
            or is null while images differ in size and ``train.batch_size`` > 1.
    """
    groups = dataset_files(dataset)
    sizes = _read_sizes([path for group in groups for path in group])
    for group in groups:
        first = sizes[group[0]]
        for path in group[1:]:
            if sizes[path] != first:
                raise DatasetError(f"{path}: image is {_fmt(sizes[path])} but {group[0]} is {_fmt(first)}")
    if not sizes:
        return
    smallest = min(sizes, key=lambda p: min(sizes[p]))
    if crop is not None and crop > MAX_UPSCALE * min(sizes[smallest]):
        raise ConfigError(
            f"data.options.crop: {crop} would upscale {smallest} ({_fmt(sizes[smallest])}) more than "
            f"{MAX_UPSCALE:g}x; use a crop of at most {int(MAX_UPSCALE * min(sizes[smallest]))}"
        )
    distinct = {sizes[group[0]]: group[0] for group in groups}
    if crop is None and batch_size > 1 and len(distinct) > 1:
        (a, pa), (b, pb) = list(distinct.items())[:2]
        raise ConfigError(
            f"data.options.crop: null stacks whole images, but {pa} is {_fmt(a)} and {pb} is {_fmt(b)}; "
            "set a crop or train.batch_size: 1"
        )


def _read_sizes(paths: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """``(width, height)`` of every file from its header; a progress bar if it takes more than a second."""
    sizes: dict[Path, tuple[int, int]] = {}
    start, bar = time.monotonic(), None
    for i, path in enumerate(paths):
        if path in sizes:
            continue
        sizes[path] = _header_size(path)
        if bar is None and time.monotonic() - start > _BAR_AFTER_S:
            from tqdm import tqdm

            bar = tqdm(total=len(paths), initial=i + 1, desc="checking data", unit="file", file=sys.stderr)
        elif bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return sizes


def _header_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as im:
            size = im.size
            im.verify()  # PNG: every chunk's CRC, so a truncated or damaged file is found now
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # Pillow: all mean unreadable
        raise DatasetError(
            f"{path}: not a readable image ({' '.join(str(exc).split()) or type(exc).__name__})"
        ) from None
    if 0 in size:
        raise DatasetError(f"{path}: zero-sized image ({_fmt(size)})")
    return size


def _fmt(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
