"""Option blocks of the dataset kinds: one frozen dataclass per kind, checked when it is built.

A typo in a YAML file is a one-line :class:`~derain.errors.ConfigError` naming the option;
:func:`derain.data.datasets.build_dataset` prefixes the dataset kind.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Collection
from dataclasses import MISSING, dataclass, fields
from typing import Union, get_args, get_origin, get_type_hints

from derain.data.synth import COMPOSITIONS, MOTIONS, PRESETS, preset_summary
from derain.errors import ConfigError

#: Clean photo pool of the synthetic kinds, relative to the working directory (the repository root).
DEFAULT_CLEAN_DIR = "../shared/data/clean"


def require(ok: bool, key: str, problem: str) -> None:
    """Raise a ConfigError naming the option; :func:`build_dataset` prefixes the dataset kind."""
    if not ok:
        raise ConfigError(f"{key}: {problem}")


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

    crop: int | None = None
    flip: bool = False
    seed: int = 0
    cache_mb: int = 512

    def __post_init__(self) -> None:
        require(self.crop is None or self.crop > 0, "crop", f"must be a positive integer or null, got {self.crop}")
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(self.cache_mb >= 0, "cache_mb", f"must be >= 0, got {self.cache_mb}")


@dataclass(frozen=True, kw_only=True)
class PairedFolderOptions(CommonOptions):
    """Either ``root`` (layout auto-detected) or ``rain_dir`` + ``clean_dir``."""

    root: str | None = None
    rain_dir: str | None = None
    clean_dir: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
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
        super().__post_init__()
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
    frames: int = 5
    stride: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.frames >= 1, "frames", f"must be >= 1, got {self.frames}")
        require(self.stride >= 1, "stride", f"must be >= 1, got {self.stride}")


@dataclass(frozen=True, kw_only=True)
class SyntheticOptions(CommonOptions):
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
        require(self.length >= 1, "length", f"must be >= 1, got {self.length}")
        _check_choices("preset", self.preset, PRESETS, preset_summary())
        _check_choices("composition", self.composition, COMPOSITIONS)


@dataclass(frozen=True, kw_only=True)
class SyntheticPairsOptions(SyntheticOptions):
    """Options of ``synthetic_pairs``.

    Attributes:
        haze: strength in [0, 1] of the veil :func:`derain.data.synth.add_rain` lays over the rainy image.
    """

    haze: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0.0 <= self.haze <= 1.0, "haze", f"must be in [0, 1], got {self.haze}")


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

    frames: int = 2
    exposure_drift: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.frames >= 2, "frames", f"a time-lapse item needs >= 2 frames, got {self.frames}")
        require(self.exposure_drift >= 0, "exposure_drift", f"must be >= 0, got {self.exposure_drift}")
        require(self.noise_sigma >= 0, "noise_sigma", f"must be >= 0, got {self.noise_sigma}")
        quality = self.jpeg_quality
        require(quality is None or 1 <= quality <= 100, "jpeg_quality", f"must be in [1, 100], got {quality}")


@dataclass(frozen=True, kw_only=True)
class SyntheticVideoOptions(SyntheticOptions):
    """Options of ``synthetic_video``.

    Attributes:
        frames: T, frames per item.
        motion: camera motion name(s) (pan, zoom, none); one is drawn per item.
    """

    frames: int = 5
    motion: tuple[str, ...] = ("pan",)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.frames >= 1, "frames", f"must be >= 1, got {self.frames}")
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


def parse_options(options_type: type[CommonOptions], options: dict[str, object]) -> CommonOptions:
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
