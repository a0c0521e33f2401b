"""The dataset base class (options, shared epoch, seeded items, cache) and the registry of kinds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset

from derain.data.datasets.helpers import ImageCache, augment, check_same_size, item_rng
from derain.data.datasets.options import CommonOptions
from derain.data.items import ItemKind
from derain.errors import ConfigError
from derain.registry import Registry
from derain.schema import parse


class SeededDataset(Dataset):
    """Base: options, shared epoch, per-item generator and the decoded-image cache."""

    Options: ClassVar[type[CommonOptions]]
    #: The kind of item it yields; a training config checks it against its objective's kind.
    item_kind: ClassVar[ItemKind]

    def __init__(self, options: CommonOptions) -> None:
        self.options = options
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._cache = ImageCache(options.cache_mb * 2**20)

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose items ``__getitem__`` returns; call it before iterating the epoch.

        The value lives in shared memory, so DataLoader workers (persistent ones too) see it.

        Raises:
            ValueError: ``epoch`` is negative.
        """
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self._epoch.fill_(int(epoch))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {type(self).__name__} of length {len(self)}")
        return self._item(index, item_rng(self.options.seed, self.epoch, index))

    def __len__(self) -> int:
        raise NotImplementedError

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        raise NotImplementedError

    def _augment(self, images: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        return augment(images, rng, self.options.crop, self.options.flip)

    def _load(self, paths: Sequence[Path]) -> list[np.ndarray]:
        """Decode images of one item (through the cache) and check they share a size."""
        images = [self._cache.get(path) for path in paths]
        check_same_size(images, paths)
        return images


DATASETS: Registry[type[SeededDataset]] = Registry("dataset")


def build_dataset(kind: str, **options: object) -> Dataset:
    """Build a registered dataset from config options (the trainer calls ``build_dataset(cfg.kind, **cfg.options)``).

    Raises:
        ConfigError: unknown kind, or an unknown, missing or bad option (named ``<kind>.<option>``).
        DatasetError: a folder is missing, empty or badly laid out.
    """
    dataset_type = DATASETS.get(kind)
    parsed = parse(dataset_type.Options, options, kind)
    try:
        return dataset_type(parsed)
    except ConfigError as e:  # an option that only the data can refute (e.g. an excluded folder that is not there)
        raise ConfigError(f"{kind}.{e}") from None


def parse_dataset_options(kind: str, options: dict[str, object], key: str) -> CommonOptions:
    """Check ``options`` for dataset ``kind`` without touching the disk; errors name ``<key>.<option>``."""
    return parse(DATASETS.get(kind).Options, options, key)
