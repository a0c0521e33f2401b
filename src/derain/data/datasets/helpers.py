"""Shared item plumbing of the datasets: per-item randomness, the decoded-image cache, augmentation."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from derain.data.io import read_rgb
from derain.errors import DatasetError


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The only source of an item's randomness: same (seed, epoch, index) -> same item, in any process."""
    return np.random.default_rng(np.random.SeedSequence((seed, epoch, index)))


class ImageCache:
    """Per-process LRU of decoded images as uint8 ``(H, W, 3)``, bounded in bytes."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._images: OrderedDict[Path, np.ndarray] = OrderedDict()

    def get(self, path: Path) -> np.ndarray:
        image = self._images.get(path)
        if image is not None:
            self._images.move_to_end(path)
            return image
        image = to_uint8(read_rgb(path))
        if image.nbytes <= self.budget_bytes:
            self._images[path] = image
            self.used_bytes += image.nbytes
            while self.used_bytes > self.budget_bytes:
                self.used_bytes -= self._images.popitem(last=False)[1].nbytes
        return image


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def check_same_size(images: Sequence[np.ndarray], paths: Sequence[Path]) -> None:
    """Images of one item share a window, so they must share a size."""
    height, width = images[0].shape[:2]
    for image, path in zip(images[1:], paths[1:], strict=True):
        if image.shape[:2] != (height, width):
            size = f"{image.shape[1]}x{image.shape[0]}"
            raise DatasetError(f"{path}: image is {size} but {paths[0].name} is {width}x{height}")


def _upscale_to(image: np.ndarray, crop: int) -> np.ndarray:
    """Upscale so the short side is at least ``crop`` (bilinear); larger images are returned as they are."""
    height, width = image.shape[:2]
    scale = crop / min(height, width)
    if scale <= 1:
        return image
    size = (max(crop, round(width * scale)), max(crop, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def augment(images: Sequence[np.ndarray], rng: np.random.Generator, crop: int | None, flip: bool) -> list[np.ndarray]:
    """One random window and one flip for all images of an item (which share a size)."""
    images = [_upscale_to(image, crop) for image in images] if crop else list(images)
    if crop:
        height, width = images[0].shape[:2]
        top, left = int(rng.integers(height - crop + 1)), int(rng.integers(width - crop + 1))
        images = [image[top : top + crop, left : left + crop] for image in images]
    if flip and rng.random() < 0.5:
        images = [image[:, ::-1] for image in images]
    return images


def existing_dir(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder}: {what} folder not found")
    return folder


def is_visible_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")
