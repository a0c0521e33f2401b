"""Torch datasets for training: paired folders, time-lapse scenes, video clips and their synthetic twins.

Build them by name from a config with :func:`build_dataset`; each kind validates its options through a
frozen dataclass (:mod:`.options`), so a typo in a YAML file is a one-line :class:`~derain.errors.ConfigError`.

Items are dicts of float32 tensors in [0, 1] (docs/architecture.md):

- paired: ``{"rain": (3, H, W), "clean": (3, H, W), "name": str}``
- time-lapse: ``{"frames": (2, 3, H, W)}``, two *different* frames of one scene at the same window.
  A time-lapse item never holds a clean image: that is the no-ground-truth guarantee.
- video: ``{"rain": (T, 3, H, W), "clean": (T, 3, H, W)}``, T consecutive frames; ``clean`` only
  where the clips have it. ``hybrid_clips`` adds ``streaks`` ``(T, 3, H, W)`` and ``alpha`` ``(T, H, W)``.

Augmentation (``crop``, ``flip``) applies the same window and the same horizontal flip to every image
of an item. Images smaller than the crop are first upscaled (bilinear) until their short side equals
the crop: mirrored padding would add symmetric structures that no real photo has. Flips are
horizontal only, so the sky stays up and rain keeps falling down.

Every random choice of an item (window, flip, frame pair, photo, rain) comes from a generator seeded
by ``(seed, epoch, index)`` through :class:`numpy.random.SeedSequence`, never from global state: an
item is identical in any DataLoader worker and in any run, and items differ across indices and
epochs. Call ``dataset.set_epoch(epoch)`` before iterating each epoch; the epoch lives in shared
memory, so it reaches DataLoader workers even when they are persistent.

Decoded images are kept as uint8 in an LRU cache per process (``cache_mb`` option), a quarter of
float32's memory; each DataLoader worker has its own.

Layout: :mod:`.options` (option blocks), :mod:`.helpers` (randomness, cache, augmentation),
:mod:`.base` (base class, registry, :func:`build_dataset`), one module per family of kinds
(:mod:`.intensity`: paper 004's intensity-aware pairs with their rain class).
"""

from derain.data.datasets.base import DATASETS, build_dataset, parse_dataset_options
from derain.data.datasets.hybrid_clips import HybridClipsDataset, HybridClipsOptions
from derain.data.datasets.intensity import IntensityOptions, IntensityPairsDataset
from derain.data.datasets.options import (
    DEFAULT_CLEAN_DIR,
    PairedFolderOptions,
    SyntheticPairsOptions,
    SyntheticTimelapseOptions,
    SyntheticVideoOptions,
    TimelapseFolderOptions,
    VideoFolderOptions,
)
from derain.data.datasets.paired import PairedFolderDataset
from derain.data.datasets.synthetic import SyntheticPairsDataset, SyntheticTimelapseDataset, SyntheticVideoDataset
from derain.data.datasets.timelapse import TimelapseFolderDataset, scene_frame_dir
from derain.data.datasets.video import VideoFolderDataset
from derain.data.items import ItemKind

__all__ = [
    "DATASETS",
    "DEFAULT_CLEAN_DIR",
    "HybridClipsDataset",
    "HybridClipsOptions",
    "IntensityOptions",
    "IntensityPairsDataset",
    "ItemKind",
    "PairedFolderDataset",
    "PairedFolderOptions",
    "SyntheticPairsDataset",
    "SyntheticPairsOptions",
    "SyntheticTimelapseDataset",
    "SyntheticTimelapseOptions",
    "SyntheticVideoDataset",
    "SyntheticVideoOptions",
    "TimelapseFolderDataset",
    "TimelapseFolderOptions",
    "VideoFolderDataset",
    "VideoFolderOptions",
    "build_dataset",
    "parse_dataset_options",
    "scene_frame_dir",
]
