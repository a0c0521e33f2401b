"""Rainy/clean image pairs from folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from derain.data.arrays import to_chw
from derain.data.datasets.base import DATASETS, SeededDataset
from derain.data.datasets.helpers import existing_dir
from derain.data.datasets.options import PairedFolderOptions
from derain.data.pairing import find_paired_layout, pair_folders


@DATASETS.register("paired_folder")
class PairedFolderDataset(SeededDataset):
    """Rainy/clean image pairs from a folder; the naming layout is detected by :mod:`derain.data.pairing`."""

    Options = PairedFolderOptions
    item_kind = "paired"

    def __init__(self, options: PairedFolderOptions) -> None:
        super().__init__(options)
        if options.root is not None:
            rain_dir, clean_dir = find_paired_layout(existing_dir(options.root, "paired dataset"))
        else:
            rain_dir = existing_dir(options.rain_dir, "rain")
            clean_dir = existing_dir(options.clean_dir, "clean")
        self.pairs: list[tuple[Path, Path]] = pair_folders(rain_dir, clean_dir)

    def __len__(self) -> int:
        return len(self.pairs)

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        rain_path, clean_path = self.pairs[index]
        rain, clean = self._augment(self._load([rain_path, clean_path]), rng)
        return {"rain": to_chw(rain), "clean": to_chw(clean), "name": rain_path.name}
