"""Torch datasets for training: paired folders, time-lapse scenes, video clips and their synthetic twins.

Build them by name from a config with :func:`build_dataset`; each kind validates its options through a
frozen dataclass, so a typo in a YAML file is a one-line :class:`~derain.errors.ConfigError`.

Items are dicts of float32 tensors in [0, 1] (docs/architecture.md):

- paired: ``{"rain": (3, H, W), "clean": (3, H, W), "name": str}``
- time-lapse: ``{"frames": (2, 3, H, W)}``, two *different* frames of one scene at the same window.
  A time-lapse item never holds a clean image: that is the no-ground-truth guarantee.
- video: ``{"rain": (T, 3, H, W), "clean": (T, 3, H, W)}``, T consecutive frames; ``clean`` only
  where the clips have it.

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
"""

from __future__ import annotations

import difflib
import types
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import MISSING, dataclass, fields
from itertools import islice
from pathlib import Path
from typing import ClassVar, Union, get_args, get_origin, get_type_hints

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from derain.data.io import IMAGE_SUFFIXES, VIDEO_SUFFIXES, list_images, open_video, read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.data.synth import COMPOSITIONS, MOTIONS, PRESETS, add_rain, preset_summary, synth_timelapse, synth_video
from derain.errors import ConfigError, DatasetError
from derain.registry import Registry

__all__ = [
    "DATASETS",
    "DEFAULT_CLEAN_DIR",
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
    "scene_frame_dir",
]

#: Clean photo pool of the synthetic kinds, relative to the working directory (the repository root).
DEFAULT_CLEAN_DIR = "../shared/data/clean"
#: Background window of a synthetic video item, relative to its crop (room for the camera to move).
VIDEO_MARGIN = 1.5
#: File stem of a time-lapse scene's reference image, which training must never see.
TIMELAPSE_CLEAN_STEM = "clean"


# --------------------------------------------------------------------------------------------- options


def _require(ok: bool, key: str, problem: str) -> None:
    """Raise a ConfigError naming the option; :func:`build_dataset` prefixes the dataset kind."""
    if not ok:
        raise ConfigError(f"{key}: {problem}")


def _check_choices(key: str, values: tuple[str, ...], known: Collection[str], listing: str = "") -> None:
    _require(len(values) > 0, key, "needs at least one name")
    for value in values:
        _require(value in known, key, f"unknown name {value!r} (known: {listing or ', '.join(known)})")


@dataclass(frozen=True, kw_only=True)
class _CommonOptions:
    """Options every kind takes.

    Attributes:
        crop: square crop size in pixels, or None for whole images (then batch size 1 or equal sizes).
        flip: random horizontal flip (p = 0.5).
        seed: base of every item's randomness, together with the epoch and the index.
        cache_mb: memory for decoded images (uint8) per worker process; 0 disables the cache. The
            default holds the whole default clean pool (~440 MB), so each photo is decoded once.
    """

    crop: int | None = None
    flip: bool = False
    seed: int = 0
    cache_mb: int = 512

    def __post_init__(self) -> None:
        _require(self.crop is None or self.crop > 0, "crop", f"must be a positive integer or null, got {self.crop}")
        _require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        _require(self.cache_mb >= 0, "cache_mb", f"must be >= 0, got {self.cache_mb}")


@dataclass(frozen=True, kw_only=True)
class PairedFolderOptions(_CommonOptions):
    """Either ``root`` (layout auto-detected) or ``rain_dir`` + ``clean_dir``."""

    root: str | None = None
    rain_dir: str | None = None
    clean_dir: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        split = self.rain_dir is not None or self.clean_dir is not None
        _require(self.root is None or not split, "root", "give either root or rain_dir + clean_dir, not both")
        _require(split or self.root is not None, "root", "required (or rain_dir + clean_dir)")
        _require(self.rain_dir is not None or not split, "rain_dir", "required together with clean_dir")
        _require(self.clean_dir is not None or not split, "clean_dir", "required together with rain_dir")


@dataclass(frozen=True, kw_only=True)
class TimelapseFolderOptions(_CommonOptions):
    """Either ``root``, holding one sub-folder per scene, or ``scenes``, a list of scene folders.

    A scene folder holds the frames of one static camera, directly or in its ``rain/``.
    """

    root: str | None = None
    scenes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.root is None or self.scenes is None, "root", "give either root or scenes, not both")
        _require(self.root is not None or self.scenes is not None, "root", "required (or scenes)")
        _require(self.scenes is None or len(self.scenes) > 0, "scenes", "must list at least one folder")


@dataclass(frozen=True, kw_only=True)
class VideoFolderOptions(_CommonOptions):
    """``root`` holds clips (frame folders, ``rain/`` + ``clean/`` folders or video files), or is one.

    Attributes:
        frames: T, consecutive frames per item.
        stride: frames between the starts of successive items of a clip.
    """

    root: str
    frames: int = 5
    stride: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.frames >= 1, "frames", f"must be >= 1, got {self.frames}")
        _require(self.stride >= 1, "stride", f"must be >= 1, got {self.stride}")


@dataclass(frozen=True, kw_only=True)
class _SyntheticOptions(_CommonOptions):
    """Options of the on-the-fly synthetic kinds.

    Attributes:
        clean_dir: clean photo pool, searched recursively for images.
        exclude: names of sub-folders of ``clean_dir`` left out (e.g. a validation set such as Kodak24).
        length: items per (virtual) epoch.
        preset: rain preset name(s) from :data:`derain.data.synth.PRESETS`; one is drawn per item.
        composition: rain composition name(s) (additive, screen, occlusion); one is drawn per item.
    """

    crop: int | None = 128
    clean_dir: str = DEFAULT_CLEAN_DIR
    exclude: tuple[str, ...] = ()
    length: int = 1000
    preset: tuple[str, ...] = ("medium",)
    composition: tuple[str, ...] = ("additive",)

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.length >= 1, "length", f"must be >= 1, got {self.length}")
        _check_choices("preset", self.preset, PRESETS, preset_summary())
        _check_choices("composition", self.composition, COMPOSITIONS)


@dataclass(frozen=True, kw_only=True)
class SyntheticPairsOptions(_SyntheticOptions):
    """Options of ``synthetic_pairs``.

    Attributes:
        haze: strength in [0, 1] of the veil :func:`derain.data.synth.add_rain` lays over the rainy image.
    """

    haze: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0.0 <= self.haze <= 1.0, "haze", f"must be in [0, 1], got {self.haze}")


@dataclass(frozen=True, kw_only=True)
class SyntheticTimelapseOptions(_SyntheticOptions):
    """Options of ``synthetic_timelapse``.

    Attributes:
        frames: sequence length rendered per scene; two different frames of it form the item, so
            more frames only matter with per-frame camera effects (and cost render time).
        exposure_drift: per-frame exposure jitter (see :func:`derain.data.synth.synth_timelapse`).
        noise_sigma: sensor noise standard deviation.
        jpeg_quality: JPEG round trip of every frame, or None.
    """

    frames: int = 2
    exposure_drift: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.frames >= 2, "frames", f"a time-lapse item needs >= 2 frames, got {self.frames}")
        _require(self.exposure_drift >= 0, "exposure_drift", f"must be >= 0, got {self.exposure_drift}")
        _require(self.noise_sigma >= 0, "noise_sigma", f"must be >= 0, got {self.noise_sigma}")
        quality = self.jpeg_quality
        _require(quality is None or 1 <= quality <= 100, "jpeg_quality", f"must be in [1, 100], got {quality}")


@dataclass(frozen=True, kw_only=True)
class SyntheticVideoOptions(_SyntheticOptions):
    """Options of ``synthetic_video``.

    Attributes:
        frames: T, frames per item.
        motion: camera motion name(s) (pan, zoom, none); one is drawn per item.
    """

    frames: int = 5
    motion: tuple[str, ...] = ("pan",)

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.frames >= 1, "frames", f"must be >= 1, got {self.frames}")
        _check_choices("motion", self.motion, MOTIONS)


def _coerce(key: str, value: object, hint: object) -> object:
    """Check a YAML value against a field's type; lists become tuples and a lone string a 1-tuple."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        for arm in args:
            try:
                return _coerce(key, value, arm)
            except ConfigError:
                continue
    elif origin is tuple:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            return tuple(_coerce(key, item, args[0]) for item in items)
    elif hint is type(None):
        if value is None:
            return None
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{key}: expected {_type_name(hint)}, got {value!r}")


def _type_name(hint: object) -> str:
    if get_origin(hint) is tuple:
        return f"a name or a list of {_type_name(get_args(hint)[0])}"
    if get_args(hint):
        return " or ".join(_type_name(arm) for arm in get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _parse_options(options_type: type[_CommonOptions], options: dict[str, object]) -> _CommonOptions:
    """Map raw config options onto the kind's frozen dataclass; unknown or missing keys raise."""
    hints = get_type_hints(options_type)
    known = {f.name: f for f in fields(options_type)}
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{key}: unknown option{hint} (known: {', '.join(sorted(known))})")
    for name, spec in known.items():
        if name not in options and spec.default is MISSING and spec.default_factory is MISSING:
            raise ConfigError(f"{name}: required option missing")
    return options_type(**{key: _coerce(key, value, hints[key]) for key, value in options.items()})


# --------------------------------------------------------------------------------------------- helpers


def _item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The only source of an item's randomness: same (seed, epoch, index) -> same item, in any process."""
    return np.random.default_rng(np.random.SeedSequence((seed, epoch, index)))


class _ImageCache:
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
        image = _to_uint8(read_rgb(path))
        if image.nbytes <= self.budget_bytes:
            self._images[path] = image
            self.used_bytes += image.nbytes
            while self.used_bytes > self.budget_bytes:
                self.used_bytes -= self._images.popitem(last=False)[1].nbytes
        return image


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def _to_float(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1 / 255)
    return image.astype(np.float32, copy=False)


def _to_tensor(images: Sequence[np.ndarray] | np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` -> ``(3, H, W)``, or a sequence of them -> ``(T, 3, H, W)``; float32 in [0, 1]."""
    array = _to_float(np.asarray(images))
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, -3)))


def _check_same_size(images: Sequence[np.ndarray], paths: Sequence[Path]) -> None:
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


def _augment(images: Sequence[np.ndarray], rng: np.random.Generator, crop: int | None, flip: bool) -> list[np.ndarray]:
    """One random window and one flip for all images of an item (which share a size)."""
    images = [_upscale_to(image, crop) for image in images] if crop else list(images)
    if crop:
        height, width = images[0].shape[:2]
        top, left = int(rng.integers(height - crop + 1)), int(rng.integers(width - crop + 1))
        images = [image[top : top + crop, left : left + crop] for image in images]
    if flip and rng.random() < 0.5:
        images = [image[:, ::-1] for image in images]
    return images


def _find_images(root: Path) -> list[Path]:
    """Images anywhere under ``root``, sorted, hidden files and folders skipped."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def _existing_dir(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder}: {what} folder not found")
    return folder


# --------------------------------------------------------------------------------------------- datasets


class _SeededDataset(Dataset):
    """Base: options, shared epoch, per-item generator and the decoded-image cache."""

    Options: ClassVar[type[_CommonOptions]]

    def __init__(self, options: _CommonOptions) -> None:
        self.options = options
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._cache = _ImageCache(options.cache_mb * 2**20)

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
        return self._item(index, _item_rng(self.options.seed, self.epoch, index))

    def __len__(self) -> int:
        raise NotImplementedError

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        raise NotImplementedError

    def _augment(self, images: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        return _augment(images, rng, self.options.crop, self.options.flip)

    def _load(self, paths: Sequence[Path]) -> list[np.ndarray]:
        """Decode images of one item (through the cache) and check they share a size."""
        images = [self._cache.get(path) for path in paths]
        _check_same_size(images, paths)
        return images


DATASETS: Registry[type[_SeededDataset]] = Registry("dataset")


def build_dataset(kind: str, **options: object) -> Dataset:
    """Build a registered dataset from config options (the trainer calls ``build_dataset(cfg.kind, **cfg.options)``).

    Raises:
        ConfigError: unknown kind, or an unknown, missing or bad option (named ``<kind>.<option>``).
        DatasetError: a folder is missing, empty or badly laid out.
    """
    dataset_type = DATASETS.get(kind)
    try:
        return dataset_type(_parse_options(dataset_type.Options, options))
    except ConfigError as e:
        raise ConfigError(f"{kind}.{e}") from None


@DATASETS.register("paired_folder")
class PairedFolderDataset(_SeededDataset):
    """Rainy/clean image pairs from a folder; the naming layout is detected by :mod:`derain.data.pairing`."""

    Options = PairedFolderOptions

    def __init__(self, options: PairedFolderOptions) -> None:
        super().__init__(options)
        if options.root is not None:
            rain_dir, clean_dir = find_paired_layout(_existing_dir(options.root, "paired dataset"))
        else:
            rain_dir = _existing_dir(options.rain_dir, "rain")
            clean_dir = _existing_dir(options.clean_dir, "clean")
        self.pairs: list[tuple[Path, Path]] = pair_folders(rain_dir, clean_dir)

    def __len__(self) -> int:
        return len(self.pairs)

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        rain_path, clean_path = self.pairs[index]
        rain, clean = self._augment(self._load([rain_path, clean_path]), rng)
        return {"rain": _to_tensor(rain), "clean": _to_tensor(clean), "name": rain_path.name}


@DATASETS.register("timelapse_folder")
class TimelapseFolderDataset(_SeededDataset):
    """Static-camera rainy sequences, one sub-folder per scene; no ground truth is ever read.

    Frames sit directly in the scene folder or in its ``rain/`` sub-folder; a ``clean.*`` image there
    (a reference some datasets ship) is ignored. Item ``i`` pairs frame ``i`` of the concatenated
    scenes with a different random frame of the same scene.
    """

    Options = TimelapseFolderOptions

    def __init__(self, options: TimelapseFolderOptions) -> None:
        super().__init__(options)
        if options.scenes is not None:
            folders = [_existing_dir(folder, "time-lapse scene") for folder in options.scenes]
        else:
            root = _existing_dir(options.root, "time-lapse dataset")
            folders = [folder for folder in sorted(root.iterdir()) if _is_visible_dir(folder)]
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
        return {"frames": _to_tensor(images)}


def _is_visible_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


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


@dataclass(frozen=True)
class _Clip:
    """One clip: a video file, or rainy frame files with optional matching clean frame files."""

    source: Path
    rain: tuple[Path, ...] = ()
    clean: tuple[Path, ...] | None = None
    frame_count: int = 0


@DATASETS.register("video_folder")
class VideoFolderDataset(_SeededDataset):
    """Windows of T consecutive frames from clips.

    ``root`` is one clip (it has a ``rain/`` folder) or holds clips: frame folders, folders with
    ``rain/`` and optional ``clean/`` (paired by name), or video files. Video files are decoded from
    their start for every item, so keep them short (or convert them to frame folders). ``clean`` is in
    the items when every clip has clean frames; a mix of clips with and without is an error, because
    such items cannot be batched.
    """

    Options = VideoFolderOptions

    def __init__(self, options: VideoFolderOptions) -> None:
        super().__init__(options)
        root = _existing_dir(options.root, "video dataset")
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
        item = {"rain": _to_tensor(images[: len(rain)])}
        if clean:
            item["clean"] = _to_tensor(images[len(rain) :])
        return item

    def _clip_frames(self, clip: _Clip, start: int, stop: int) -> list[np.ndarray]:
        if clip.rain:
            return self._load(clip.rain[start:stop])
        _, frames = open_video(clip.source)
        return [_to_uint8(frame) for frame in islice(frames, start, stop)]


def _is_clip(path: Path) -> bool:
    return _is_visible_dir(path) or (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES)


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


class _SyntheticDataset(_SeededDataset):
    """Base of the on-the-fly kinds: a clean photo pool, a virtual epoch, cropped backgrounds."""

    def __init__(self, options: _SyntheticOptions) -> None:
        super().__init__(options)
        root = _existing_dir(options.clean_dir, "clean photo")
        self.photos = _photo_pool(root, options.exclude)

    def __len__(self) -> int:
        return self.options.length

    def _background(self, rng: np.random.Generator, crop: int | None = None) -> tuple[np.ndarray, Path]:
        """A random photo's random window (flipped maybe), as float32; cropped before any rain is drawn."""
        path = self.photos[int(rng.integers(len(self.photos)))]
        (window,) = _augment([self._cache.get(path)], rng, crop or self.options.crop, self.options.flip)
        return _to_float(window), path

    def _style(self, rng: np.random.Generator) -> dict[str, str]:
        """This item's rain preset and composition, drawn from the configured lists."""
        return {"preset": _choose(rng, self.options.preset), "composition": _choose(rng, self.options.composition)}


def _choose(rng: np.random.Generator, names: tuple[str, ...]) -> str:
    return names[int(rng.integers(len(names)))]


def _photo_pool(root: Path, exclude: tuple[str, ...]) -> list[Path]:
    """Images under ``root`` minus those inside an excluded sub-folder (a typo there must not leak data)."""
    photos = _find_images(root)
    folders = {part for path in photos for part in path.relative_to(root).parts[:-1]}
    for name in exclude:
        _require(name in folders, "exclude", f"no sub-folder named {name!r} under {root}")
    kept = [path for path in photos if not set(path.relative_to(root).parts[:-1]) & set(exclude)]
    if not kept:
        raise DatasetError(f"{root}: no clean photos found (after excluding {list(exclude)})")
    return kept


@DATASETS.register("synthetic_pairs")
class SyntheticPairsDataset(_SyntheticDataset):
    """Rainy/clean pairs rendered on the fly from the clean photo pool (nothing is written)."""

    Options = SyntheticPairsOptions

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor | str]:
        background, path = self._background(rng)
        style = self._style(rng)
        rained = add_rain(background, style["preset"], rng, composition=style["composition"], haze=self.options.haze)
        return {"rain": _to_tensor(rained.image), "clean": _to_tensor(rained.background), "name": path.name}


@DATASETS.register("synthetic_timelapse")
class SyntheticTimelapseDataset(_SyntheticDataset):
    """Two different frames of a synthetic static-camera sequence; the clean background never leaves."""

    Options = SyntheticTimelapseOptions

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
        return {"frames": _to_tensor([sequence[first].image, sequence[second].image])}


@DATASETS.register("synthetic_video")
class SyntheticVideoDataset(_SyntheticDataset):
    """T-frame rainy clips with their clean frames, from a photo under a moving virtual camera.

    With a crop, the background window is ``VIDEO_MARGIN`` times the crop, so the camera has room to
    pan or zoom; frames are ``crop x crop``. Without one, frames are 80 % of the photo.
    """

    Options = SyntheticVideoOptions

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        crop = self.options.crop
        background, _ = self._background(rng, None if crop is None else round(crop * VIDEO_MARGIN))
        motion = _choose(rng, self.options.motion)
        out_size = None if crop is None else (crop, crop)
        clip = synth_video(background, self.options.frames, rng, **self._style(rng), motion=motion, out_size=out_size)
        return {"rain": _to_tensor([c.image for c in clip]), "clean": _to_tensor([c.background for c in clip])}
