"""Option blocks of the dataset kinds: one frozen dataclass per kind, parsed by :mod:`derain.schema`.

A typo in a YAML file is a one-line :class:`~derain.errors.ConfigError` naming the dotted key
(``data.options.crop`` from a training config, ``<kind>.crop`` from :func:`build_dataset`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated

from derain.data.synth import COMPOSITIONS, MOTIONS, check_rain_names
from derain.schema import NonNegativeFloat, NonNegativeInt, PositiveInt, Range, UnitFloat, require

#: Clean photo pool of the synthetic kinds, relative to the working directory (the repository root).
DEFAULT_CLEAN_DIR = "../shared/data/clean"


def _check_choices(key: str, values: tuple[str, ...], known: Collection[str], listing: str = "") -> None:
    require(len(values) > 0, key, "needs at least one name")
    for value in values:
        require(value in known, key, f"unknown name {value!r} (known: {listing or ', '.join(known)})")


@dataclass(frozen=True, kw_only=True)
class CommonOptions:
    """Options every kind takes.

    Attributes:
        crop: square crop size in pixels, or None for whole images (then batch size 1 or equal sizes).
        flip: random horizontal flip (p = 0.5).
        seed: base of every item's randomness, together with the epoch and the index.
        cache_mb: memory for decoded images (uint8) per worker process; 0 disables the cache. The
            default holds the whole default clean pool (~440 MB), so each photo is decoded once.
    """

    crop: PositiveInt | None = None
    flip: bool = False
    seed: NonNegativeInt = 0
    cache_mb: NonNegativeInt = 512


@dataclass(frozen=True, kw_only=True)
class PairedFolderOptions(CommonOptions):
    """Either ``root`` (layout auto-detected) or ``rain_dir`` + ``clean_dir``."""

    root: str | None = None
    rain_dir: str | None = None
    clean_dir: str | None = None

    def __post_init__(self) -> None:
        split = self.rain_dir is not None or self.clean_dir is not None
        require(self.root is None or not split, "root", "give either root or rain_dir + clean_dir, not both")
        require(split or self.root is not None, "root", "required (or rain_dir + clean_dir)")
        require(self.rain_dir is not None or not split, "rain_dir", "required together with clean_dir")
        require(self.clean_dir is not None or not split, "clean_dir", "required together with rain_dir")


@dataclass(frozen=True, kw_only=True)
class TimelapseFolderOptions(CommonOptions):
    """Either ``root``, holding one sub-folder per scene, or ``scenes``, a list of scene folders.

    A scene folder holds the frames of one static camera, directly or in its ``rain/``.
    """

    root: str | None = None
    scenes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        require(self.root is None or self.scenes is None, "root", "give either root or scenes, not both")
        require(self.root is not None or self.scenes is not None, "root", "required (or scenes)")
        require(self.scenes is None or len(self.scenes) > 0, "scenes", "must list at least one folder")


@dataclass(frozen=True, kw_only=True)
class VideoFolderOptions(CommonOptions):
    """``root`` holds clips (frame folders, ``rain/`` + ``clean/`` folders or video files), or is one.

    Attributes:
        frames: T, consecutive frames per item.
        stride: frames between the starts of successive items of a clip.
    """

    root: str
    frames: PositiveInt = 5
    stride: PositiveInt = 1


@dataclass(frozen=True, kw_only=True)
class SyntheticOptions(CommonOptions):
    """Options of the on-the-fly synthetic kinds.

    Attributes:
        clean_dir: clean photo pool, searched recursively for images.
        exclude: names of sub-folders of ``clean_dir`` left out (e.g. a validation set such as Kodak24).
        length: items per (virtual) epoch.
        preset: rain preset name(s) from :data:`derain.data.synth.PRESETS`; one is drawn per item.
        composition: rain composition name(s) (additive, screen, occlusion); one is drawn per item.
        streak_dir: folder of streak textures that the real-mix mixtures draw from; default
            ``../shared/data/rain_streaks`` next to the repository when present (else no textures).
    """

    crop: PositiveInt | None = 128
    clean_dir: str = DEFAULT_CLEAN_DIR
    exclude: tuple[str, ...] = ()
    length: PositiveInt = 1000
    preset: tuple[str, ...] = ("medium",)
    composition: tuple[str, ...] = ("additive",)
    streak_dir: str | None = None

    def __post_init__(self) -> None:
        check_rain_names("preset", self.preset)
        _check_choices("composition", self.composition, COMPOSITIONS)


@dataclass(frozen=True, kw_only=True)
class SyntheticPairsOptions(SyntheticOptions):
    """Options of ``synthetic_pairs``; the default rain is the ``real-mix-2`` mixture (docs/quality.md).

    Attributes:
        haze: strength in [0, 1] of the veil :func:`derain.data.synth.add_rain` lays over the rainy image.
    """

    preset: tuple[str, ...] = ("real-mix-2",)
    haze: UnitFloat = 0.0


@dataclass(frozen=True, kw_only=True)
class SyntheticTimelapseOptions(SyntheticOptions):
    """Options of ``synthetic_timelapse``.

    Attributes:
        frames: sequence length rendered per scene; two different frames of it form the item, so
            more frames only matter with per-frame camera effects (and cost render time).
        exposure_drift: per-frame exposure jitter (see :func:`derain.data.synth.synth_timelapse`).
        noise_sigma: sensor noise standard deviation.
        jpeg_quality: JPEG round trip of every frame, or None.
    """

    frames: Annotated[int, Range(min=2)] = 2
    exposure_drift: NonNegativeFloat = 0.0
    noise_sigma: NonNegativeFloat = 0.0
    jpeg_quality: Annotated[int, Range(min=1, max=100)] | None = None


@dataclass(frozen=True, kw_only=True)
class SyntheticVideoOptions(SyntheticOptions):
    """Options of ``synthetic_video``.

    Attributes:
        frames: T, frames per item.
        motion: camera motion name(s) (pan, zoom, none); one is drawn per item.
    """

    frames: PositiveInt = 5
    motion: tuple[str, ...] = ("pan",)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choices("motion", self.motion, MOTIONS)
