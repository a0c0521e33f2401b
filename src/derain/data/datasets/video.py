"""Windows of consecutive frames from video clips (frame folders or video files)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from derain.data.arrays import to_chw
from derain.data.datasets.base import DATASETS, SeededDataset
from derain.data.datasets.helpers import existing_dir, is_visible_dir, to_uint8
from derain.data.datasets.options import VideoFolderOptions
from derain.data.io import list_images
from derain.data.pairing import pair_folders
from derain.data.video import VIDEO_SUFFIXES, open_video
from derain.errors import DatasetError


@dataclass(frozen=True)
class _Clip:
    """One clip: a video file, or rainy frame files with optional matching clean frame files."""

    source: Path
    rain: tuple[Path, ...] = ()
    clean: tuple[Path, ...] | None = None
    frame_count: int = 0


@DATASETS.register("video_folder")
class VideoFolderDataset(SeededDataset):
    """Windows of T consecutive frames from clips.

    ``root`` is one clip (it has a ``rain/`` folder) or holds clips: frame folders, folders with
    ``rain/`` and optional ``clean/`` (paired by name), or video files. Video files are decoded from
    their start for every item, so keep them short (or convert them to frame folders). ``clean`` is in
    the items when every clip has clean frames; a mix of clips with and without is an error, because
    such items cannot be batched.
    """

    Options = VideoFolderOptions
    item_kind = "video"

    def __init__(self, options: VideoFolderOptions) -> None:
        super().__init__(options)
        root = existing_dir(options.root, "video dataset")
        sources = [root] if (root / "rain").is_dir() else [p for p in sorted(root.iterdir()) if _is_clip(p)]
        if not sources:
            raise DatasetError(f"{root}: no clips (expected frame folders, rain/ + clean/ folders or video files)")
        self.clips = [_open_clip(source) for source in sources]
        self.has_clean = self.clips[0].clean is not None
        for clip in self.clips:
            if (clip.clean is not None) != self.has_clean:
                with_gt, without = (self.clips[0], clip) if self.has_clean else (clip, self.clips[0])
                raise DatasetError(
                    f"{with_gt.source}: has clean frames but clip {without.source.name} has none; "
                    "put clips with and without ground truth in separate folders"
                )
            if clip.frame_count < options.frames:
                raise DatasetError(f"{clip.source}: {clip.frame_count} frames, fewer than frames={options.frames}")
        self._windows = [
            (clip, start)
            for clip in self.clips
            for start in range(0, clip.frame_count - options.frames + 1, options.stride)
        ]

    def __len__(self) -> int:
        return len(self._windows)

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        clip, start = self._windows[index]
        stop = start + self.options.frames
        rain = self._clip_frames(clip, start, stop)
        clean = self._load(clip.clean[start:stop]) if clip.clean is not None else []
        images = self._augment([*rain, *clean], rng)
        item = {"rain": to_chw(images[: len(rain)])}
        if clean:
            item["clean"] = to_chw(images[len(rain) :])
        return item

    def _clip_frames(self, clip: _Clip, start: int, stop: int) -> list[np.ndarray]:
        if clip.rain:
            return self._load(clip.rain[start:stop])
        _, frames = open_video(clip.source)
        return [to_uint8(frame) for frame in islice(frames, start, stop)]


def _is_clip(path: Path) -> bool:
    return is_visible_dir(path) or (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES)


def _open_clip(source: Path) -> _Clip:
    """Index a clip's frames (no decoding, except counting frames of a video without a frame count)."""
    if source.is_file():
        info, frames = open_video(source)
        count = info.frame_count if info.frame_count is not None else sum(1 for _ in frames)
        return _Clip(source, frame_count=count)
    if not (source / "rain").is_dir():
        rain = list_images(source)
        return _Clip(source, tuple(rain), frame_count=len(rain))
    if not (source / "clean").is_dir():
        rain = list_images(source / "rain")
        return _Clip(source, tuple(rain), frame_count=len(rain))
    pairs = pair_folders(source / "rain", source / "clean")
    return _Clip(source, tuple(r for r, _ in pairs), tuple(c for _, c in pairs), frame_count=len(pairs))
