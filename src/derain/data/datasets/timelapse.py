"""Static-camera rainy sequences (one folder per scene) for the no-ground-truth objectives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from derain.data.arrays import to_chw
from derain.data.datasets.base import DATASETS, SeededDataset
from derain.data.datasets.helpers import existing_dir, is_visible_dir
from derain.data.datasets.options import TimelapseFolderOptions
from derain.data.io import list_images
from derain.errors import DatasetError

#: File stem of a time-lapse scene's reference image, which training must never see.
TIMELAPSE_CLEAN_STEM = "clean"


@DATASETS.register("timelapse_folder")
class TimelapseFolderDataset(SeededDataset):
    """Static-camera rainy sequences, one sub-folder per scene; no ground truth is ever read.

    Frames sit directly in the scene folder or in its ``rain/`` sub-folder; a ``clean.*`` image there
    (a reference some datasets ship) is ignored. Item ``i`` pairs frame ``i`` of the concatenated
    scenes with a different random frame of the same scene.
    """

    Options = TimelapseFolderOptions
    item_kind = "timelapse"

    def __init__(self, options: TimelapseFolderOptions) -> None:
        super().__init__(options)
        if options.scenes is not None:
            folders = [existing_dir(folder, "time-lapse scene") for folder in options.scenes]
        else:
            root = existing_dir(options.root, "time-lapse dataset")
            folders = [folder for folder in sorted(root.iterdir()) if is_visible_dir(folder)]
            if not folders:
                raise DatasetError(f"{root}: no scene sub-folders (expected one folder of frames per scene)")
        self.scenes = [_scene_frames(folder) for folder in folders]
        self._anchors = [(scene, frame) for scene, frames in enumerate(self.scenes) for frame in range(len(frames))]

    def __len__(self) -> int:
        return len(self._anchors)

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        scene, first = self._anchors[index]
        frames = self.scenes[scene]
        second = int(rng.integers(len(frames) - 1))
        second += second >= first  # any frame but the first
        images = self._augment(self._load([frames[first], frames[second]]), rng)
        return {"frames": to_chw(images)}


def scene_frame_dir(scene: Path) -> Path:
    """Where a time-lapse scene keeps its rainy frames: its ``rain/`` sub-folder if any, else itself."""
    return scene / "rain" if (scene / "rain").is_dir() else scene


def _scene_frames(scene: Path) -> list[Path]:
    """Rainy frames of one scene; the clean reference image is left out on purpose."""
    folder = scene_frame_dir(scene)
    frames = [path for path in list_images(folder) if path.stem.lower() != TIMELAPSE_CLEAN_STEM]
    if len(frames) < 2:
        raise DatasetError(f"{folder}: a time-lapse scene needs at least 2 rainy frames, found {len(frames)}")
    return frames
