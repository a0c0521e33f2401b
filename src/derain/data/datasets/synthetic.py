"""On-the-fly synthetic kinds: rain rendered over random windows of a clean photo pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from derain.data.arrays import to_chw, to_float
from derain.data.datasets.base import DATASETS, SeededDataset
from derain.data.datasets.helpers import augment, existing_dir
from derain.data.datasets.options import (
    SyntheticOptions,
    SyntheticPairsOptions,
    SyntheticTimelapseOptions,
    SyntheticVideoOptions,
)
from derain.data.io import list_images
from derain.data.synth import add_rain, streak_source, synth_timelapse, synth_video
from derain.errors import DatasetError
from derain.losses.attention import DEFAULT_MASK_THRESHOLD
from derain.schema import require

#: Background window of a synthetic video item, relative to its crop (room for the camera to move).
VIDEO_MARGIN = 1.5


class _SyntheticDataset(SeededDataset):
    """Base of the on-the-fly kinds: a clean photo pool, a virtual epoch, cropped backgrounds."""

    def __init__(self, options: SyntheticOptions) -> None:
        super().__init__(options)
        root = existing_dir(options.clean_dir, "clean photo")
        self.photos = _photo_pool(root, options.exclude)
        self.streak_dir = streak_source(options.streak_dir)

    def __len__(self) -> int:
        return self.options.length

    def _background(self, rng: np.random.Generator, crop: int | None = None) -> tuple[np.ndarray, Path]:
        """A random photo's random window (flipped maybe), as float32; cropped before any rain is drawn."""
        path = self.photos[int(rng.integers(len(self.photos)))]
        (window,) = augment([self._cache.get(path)], rng, crop or self.options.crop, self.options.flip)
        return to_float(window), path

    def _style(self, rng: np.random.Generator) -> dict[str, str | Path | None]:
        """This item's rain preset and composition, drawn from the configured lists, and the texture folder."""
        preset, composition = _choose(rng, self.options.preset), _choose(rng, self.options.composition)
        return {"preset": preset, "composition": composition, "streak_dir": self.streak_dir}


def _choose(rng: np.random.Generator, names: tuple[str, ...]) -> str:
    return names[int(rng.integers(len(names)))]


def _photo_pool(root: Path, exclude: tuple[str, ...]) -> list[Path]:
    """Images under ``root`` minus those inside an excluded sub-folder (a typo there must not leak data)."""
    photos = list_images(root, recursive=True)
    folders = {part for path in photos for part in path.relative_to(root).parts[:-1]}
    for name in exclude:
        require(name in folders, "exclude", f"no sub-folder named {name!r} under {root}")
    kept = [path for path in photos if not set(path.relative_to(root).parts[:-1]) & set(exclude)]
    if not kept:
        raise DatasetError(f"{root}: no clean photos found (after excluding {list(exclude)})")
    return kept


@DATASETS.register("synthetic_pairs")
class SyntheticPairsDataset(_SyntheticDataset):
    """Rainy/clean pairs rendered on the fly from the clean photo pool (nothing is written), with the rain mask."""

    Options = SyntheticPairsOptions
    item_kind = "paired"

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        background, path = self._background(rng)
        style = self._style(rng)
        rained = add_rain(background, style.pop("preset"), rng, **style, haze=self.options.haze)
        # the exact rain mask, from the streak layer itself (not the rainy/clean difference, which
        # also holds haze and camera degradations): spanet's attention target; other objectives ignore it
        mask = (rained.streaks.mean(axis=2, keepdims=True) > DEFAULT_MASK_THRESHOLD).astype(np.float32)
        return {
            "rain": to_chw(rained.image),
            "clean": to_chw(rained.background),
            "mask": to_chw(mask),
            "name": path.name,
        }


@DATASETS.register("synthetic_timelapse")
class SyntheticTimelapseDataset(_SyntheticDataset):
    """Two different frames of a synthetic static-camera sequence; the clean background never leaves."""

    Options = SyntheticTimelapseOptions
    item_kind = "timelapse"

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        background, _ = self._background(rng)
        opts = self.options
        sequence = synth_timelapse(
            background,
            opts.frames,
            rng,
            **self._style(rng),
            exposure_drift=opts.exposure_drift,
            noise_sigma=opts.noise_sigma,
            jpeg_quality=opts.jpeg_quality,
        )
        first, second = rng.choice(opts.frames, size=2, replace=False)
        return {"frames": to_chw([sequence[first].image, sequence[second].image])}


@DATASETS.register("synthetic_video")
class SyntheticVideoDataset(_SyntheticDataset):
    """T-frame rainy clips with their clean frames, from a photo under a moving virtual camera.

    With a crop, the background window is ``VIDEO_MARGIN`` times the crop, so the camera has room to
    pan or zoom; frames are ``crop x crop``. Without one, frames are 80 % of the photo.
    """

    Options = SyntheticVideoOptions
    item_kind = "video"

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        crop = self.options.crop
        background, _ = self._background(rng, None if crop is None else round(crop * VIDEO_MARGIN))
        motion = _choose(rng, self.options.motion)
        out_size = None if crop is None else (crop, crop)
        clip = synth_video(background, self.options.frames, rng, **self._style(rng), motion=motion, out_size=out_size)
        return {"rain": to_chw([c.image for c in clip]), "clean": to_chw([c.background for c in clip])}
