"""Endless training batches with an exactly resumable position.

Epoch ``e`` visits a permutation drawn from ``(seed, e)``, sharded by rank, full batches only; the
datasets seed their items from ``(seed, epoch, index)``, so a run resumed at ``(epoch, position)``
(with its RNG states, :mod:`derain.train.rng`) sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from derain.errors import ConfigError
from derain.train.config import TrainSection
from derain.train.distributed import DistEnv

__all__ = ["BatchStream", "to_device"]


class BatchStream:
    """Endless batches; epoch ``e`` visits a ``(seed, e)`` permutation, sharded by rank, full batches only."""

    def __init__(self, dataset: Dataset, train: TrainSection, env: DistEnv) -> None:
        self.dataset = dataset
        self.train = train
        self.env = env
        self.epoch = 0
        self.position = 0  # batches of ``epoch`` already consumed
        self._iter: Iterator[Any] | None = None
        per_rank = len(dataset) // env.world_size  # type: ignore[arg-type]
        self.batches_per_epoch = per_rank // train.batch_size
        if self.batches_per_epoch == 0:
            raise ConfigError(
                f"train.batch_size: {train.batch_size} x {env.world_size} rank(s) is more than the "
                f"dataset's {len(dataset)} items"  # type: ignore[arg-type]
            )

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.position, self._iter = state["epoch"], state["position"], None

    def __next__(self) -> dict[str, Any]:
        if self._iter is None or self.position == self.batches_per_epoch:
            if self.position == self.batches_per_epoch:
                self.epoch, self.position = self.epoch + 1, 0
            self._iter = iter(self._loader())
        self.position += 1
        return next(self._iter)

    def _loader(self) -> DataLoader:
        """This epoch's remaining batches; the loader's own generator keeps global RNG untouched."""
        seed = int(np.random.SeedSequence([self.train.seed, self.epoch]).generate_state(1)[0])
        order = np.random.default_rng(seed).permutation(len(self.dataset))  # type: ignore[arg-type]
        bs, n = self.train.batch_size, self.batches_per_epoch
        mine = order[self.env.rank :: self.env.world_size][: n * bs].tolist()
        batches = [mine[i * bs : (i + 1) * bs] for i in range(self.position, n)]
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        if self.train.num_workers > 0:
            # One OpenCV thread per rendering worker (the workers are the parallelism; OpenCV would start
            # a thread per core in each). Set here, before the fork: calling it inside a forked worker
            # deadlocks once this process has started OpenCV's pool. Torch's workers use one thread already.
            cv2.setNumThreads(1)
        return DataLoader(
            self.dataset,
            batch_sampler=batches,
            num_workers=self.train.num_workers,
            pin_memory=self.env.device.type == "cuda",
            generator=torch.Generator().manual_seed(seed),
        )


def to_device(batch: dict[str, Any], device: torch.device, channels_last: bool = False) -> dict[str, Any]:
    """Tensors of ``batch`` moved to ``device``; other values (names) as they are.

    With ``channels_last`` the 4-D tensors (image batches) also take that memory format; video clips
    (5-D) and label maps keep theirs.
    """
    return {k: _move(v, device, channels_last) if torch.is_tensor(v) else v for k, v in batch.items()}


def _move(tensor: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    if channels_last and tensor.dim() == 4:
        return tensor.to(device, non_blocking=True, memory_format=torch.channels_last)
    return tensor.to(device, non_blocking=True)
