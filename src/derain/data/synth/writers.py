"""Synthetic rain datasets on disk: pairs, time-lapse scenes and moving videos from clean photos.

Layouts written under ``out``:

- pairs: ``rain/NAME.png`` + ``clean/NAME.png``
- timelapse: ``<scene>/rain/000.png ...`` + ``<scene>/clean.png`` (the background, kept apart
  from the rainy frames for evaluation only)
- video: ``<clip>/rain/000001.png ...`` + ``<clip>/clean/000001.png ...`` (+ ``fps.txt`` in each)

plus ``contact_sheet.png`` to look at. Item ``i`` draws its randomness from ``(seed, i)`` only, so
the same request gives byte-identical files, and a larger ``count`` keeps the first items.
Clean photos are used in sorted order, cycling when ``count`` exceeds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from derain.data.arrays import fit_within
from derain.data.io import list_images, read_rgb, write_image
from derain.data.synth.compose import add_rain
from derain.data.synth.params import RainParams, resolve_params
from derain.data.synth.sequences import synth_timelapse, synth_video
from derain.data.video import VideoWriter
from derain.errors import DatasetError, WriteError

__all__ = ["DEFAULT_FRAMES", "SynthKind", "SynthRequest", "write_dataset"]

SynthKind = Literal["pairs", "timelapse", "video"]

#: Frames per scene/clip when the request leaves ``frames`` unset.
DEFAULT_FRAMES: dict[str, int] = {"pairs": 1, "timelapse": 8, "video": 24}
_SHEET_ROWS = 6
_THUMB_HEIGHT = 128


@dataclass(frozen=True, kw_only=True)
class SynthRequest:
    """What to write; the ``derain synth`` options, typed.

    Attributes:
        kind: pairs, timelapse or video.
        clean: folder of clean photos.
        out: output folder (must not contain ``clean``).
        count: pairs, scenes or clips.
        preset: rain preset name.
        seed: base of every item's randomness.
        frames: frames per scene/clip (None: :data:`DEFAULT_FRAMES`).
        size: shrink photos so the long side is at most this (None: keep).
        composition: rain model name.
        haze: veiling haze strength (pairs).
        streaks: folder of streak textures used instead of procedural streaks.
        motion: camera motion (video).
        fps: frame rate recorded for videos.
        exposure_drift, noise, jpeg: per-frame camera effects (timelapse).
    """

    kind: SynthKind
    clean: Path
    out: Path
    count: int = 10
    preset: str = "medium"
    seed: int = 0
    frames: int | None = None
    size: int | None = None
    composition: str = "additive"
    haze: float = 0.0
    streaks: Path | None = None
    motion: str = "pan"
    fps: float = 25.0
    exposure_drift: float = 0.0
    noise: float = 0.0
    jpeg: int | None = None

    @property
    def frame_count(self) -> int:
        return self.frames or DEFAULT_FRAMES[self.kind]


def write_dataset(request: SynthRequest) -> None:
    """Write ``request.count`` items and a contact sheet under ``request.out``.

    Raises:
        ConfigError: unknown preset or composition.
        DatasetError: no clean photos.
        WriteError: ``out`` contains the clean folder, or a file cannot be written.
    """
    params = resolve_params(request.preset)
    if request.streaks is not None:
        params = resolve_params(params, texture_dir=request.streaks)
    photos = _clean_photos(request.clean, request.out)
    writer = _WRITERS[request.kind]
    rows = []
    for i in range(request.count):
        photo = photos[i % len(photos)]
        background = fit_within(read_rgb(photo), request.size)
        rng = np.random.default_rng([request.seed, i])
        row = writer(request, params, background, request.out / f"{i:04d}_{photo.stem}", rng)
        if i < _SHEET_ROWS:
            rows.append(row)
    write_image(request.out / "contact_sheet.png", _sheet(rows))


def _clean_photos(clean: Path, out: Path) -> list[Path]:
    """The clean photos; refuses an output folder that is, or contains, the clean folder."""
    photos = list_images(clean)
    if not photos:
        raise DatasetError(f"{clean}: no images found")
    if clean.resolve().is_relative_to(out.resolve()):
        raise WriteError(f"{out}: output folder contains the --clean folder {clean}; pick another --out")
    return photos


def _write_pair(
    request: SynthRequest, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    comp = add_rain(background, params, rng, composition=request.composition, haze=request.haze)
    write_image(request.out / "rain" / f"{item.name}.png", comp.image)
    write_image(request.out / "clean" / f"{item.name}.png", comp.background)
    return [comp.background, comp.image, comp.streaks]


def _write_timelapse(
    request: SynthRequest, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    n = request.frame_count
    frames = synth_timelapse(
        background,
        n,
        rng,
        preset=params,
        composition=request.composition,
        exposure_drift=request.exposure_drift,
        noise_sigma=request.noise,
        jpeg_quality=request.jpeg,
    )
    digits = max(3, len(str(n - 1)))
    for t, frame in enumerate(frames):
        write_image(item / "rain" / f"{t:0{digits}d}.png", frame.image)
    write_image(item / "clean.png", background)
    return [background, *(f.image for f in frames[:4])]


def _write_video(
    request: SynthRequest, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    n = request.frame_count
    frames = synth_video(background, n, rng, preset=params, motion=request.motion, composition=request.composition)
    with VideoWriter(item / "rain", request.fps) as rain, VideoWriter(item / "clean", request.fps) as clean:
        for frame in frames:
            rain.write(frame.image)
            clean.write(frame.background)
    return [frames[0].background, frames[0].image, frames[n // 2].image, frames[-1].image]


_Writer = Callable[[SynthRequest, RainParams, np.ndarray, Path, np.random.Generator], list[np.ndarray]]
_WRITERS: dict[str, _Writer] = {"pairs": _write_pair, "timelapse": _write_timelapse, "video": _write_video}


def _thumb(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    width = max(1, round(w * _THUMB_HEIGHT / h))
    return cv2.resize(image, (width, _THUMB_HEIGHT), interpolation=cv2.INTER_AREA)


def _sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Thumbnails side by side, one row per item, rows padded with black to the widest."""
    strips = [np.concatenate([_thumb(img) for img in row], axis=1) for row in rows]
    width = max(s.shape[1] for s in strips)
    return np.concatenate([np.pad(s, ((0, 2), (0, width - s.shape[1]), (0, 0))) for s in strips], axis=0)
