"""Synthetic rain datasets on disk: pairs, time-lapse scenes and moving videos from clean photos.

Layouts written under ``out``:

- sheet: ``contact_sheet.png`` only: rows of a real rainy photo, then synthetic samples labelled
  with their preset or real-mix regime (:func:`write_sheet`)
- pairs: ``rain/NAME.png`` + ``clean/NAME.png``
- timelapse: ``<scene>/rain/000.png ...`` + ``<scene>/clean.png`` (the background, kept apart
  from the rainy frames for evaluation only)
- video: ``<clip>/rain/000001.png ...`` + ``<clip>/clean/000001.png ...`` (+ ``fps.txt`` in each)

plus ``contact_sheet.png`` to look at. Item ``i`` draws its randomness from ``(seed, i)`` only, so
the same request gives byte-identical files, and a larger ``count`` keeps the first items.
Clean photos are used in sorted order, cycling when ``count`` exceeds them; a photo that cannot be
read is skipped (reported, the next photo takes its place).

The dataset is written as one folder (:func:`derain.outputs.atomic_dir`): filled under a temp name
and renamed into place, so a failure leaves no half-written dataset, and a rerun with ``overwrite``
replaces the whole folder (no stale frames of a longer earlier run), never a folder holding files
derain did not write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from derain.data.arrays import fit_within
from derain.data.io import list_images, read_rgb, write_image
from derain.data.synth.mixture import add_rain, streak_source
from derain.data.synth.params import MIXTURE_NAMES, RainParams, resolve_params
from derain.data.synth.sequences import synth_timelapse, synth_video
from derain.data.video import VideoWriter
from derain.errors import DatasetError, ImageReadError, WriteError
from derain.outputs import atomic_dir, check_folder_output

__all__ = ["DEFAULT_FRAMES", "DEFAULT_PRESETS", "SynthKind", "SynthRequest", "write_dataset", "write_sheet"]

SynthKind = Literal["pairs", "timelapse", "video", "sheet"]

#: Frames per scene/clip when the request leaves ``frames`` unset.
DEFAULT_FRAMES: dict[str, int] = {"pairs": 1, "timelapse": 8, "video": 24, "sheet": 1}
#: Rain per kind when the request leaves ``preset`` unset: real-mix-2, the training default, for
#: single images; sequences keep ``medium`` (``--preset real-mix-2`` works for them too).
DEFAULT_PRESETS: dict[str, str] = {
    "pairs": "real-mix-2",
    "sheet": "real-mix-2",
    "timelapse": "medium",
    "video": "medium",
}
_SHEET_ROWS = 6
_THUMB_HEIGHT = 128
#: Comparison sheet: synthetic samples after each real photo, and the photos' long side (the
#: real dev photos are 470-700 px wide; streak sizes are in pixels, so scales must match).
_SAMPLES_PER_ROW = 3
_SHEET_SIZE = 512


@dataclass(frozen=True, kw_only=True)
class SynthRequest:
    """What to write; the ``derain synth`` options, typed.

    Attributes:
        kind: pairs, timelapse or video.
        clean: folder of clean photos.
        out: output folder (must not contain ``clean``).
        count: pairs, scenes or clips.
        preset: rain preset or mixture name (None: :data:`DEFAULT_PRESETS`).
        seed: base of every item's randomness.
        frames: frames per scene/clip (None: :data:`DEFAULT_FRAMES`).
        size: shrink photos so the long side is at most this (None: keep).
        composition: rain model name.
        haze: veiling haze strength (pairs).
        streaks: folder of streak textures: used instead of procedural streaks by a preset, drawn
            from by a mixture (None: ``../shared/data/rain_streaks`` when present).
        real: folder of real rainy photos shown first in each row of a sheet.
        motion: camera motion (video).
        fps: frame rate recorded for videos.
        exposure_drift, noise, jpeg: per-frame camera effects (timelapse).
        overwrite: replace an existing ``out`` that derain wrote.
    """

    kind: SynthKind
    clean: Path
    out: Path
    count: int = 10
    preset: str | None = None
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
    real: Path | None = None
    overwrite: bool = False

    @property
    def frame_count(self) -> int:
        return self.frames or DEFAULT_FRAMES[self.kind]


def write_dataset(request: SynthRequest) -> list[str]:
    """Write ``request.count`` items and a contact sheet as the folder ``request.out``.

    Returns:
        One line per clean photo that could not be read and was skipped.

    Raises:
        ConfigError: unknown preset or composition.
        DatasetError: no (readable) clean photos.
        WriteError: ``out`` contains the clean folder, exists without ``overwrite``, holds files
            derain did not write, or a file cannot be written.
    """
    rain = _rain(request)
    photos = _clean_photos(request.clean, request.out)
    check_folder_output(request.out, replace=request.overwrite)
    writer = _WRITERS[request.kind]
    rows, skipped = [], []
    with atomic_dir(request.out, replace=request.overwrite) as tmp:
        staged = replace(request, out=tmp)
        for i in range(request.count):
            while True:
                if not photos:
                    raise DatasetError(f"{request.clean}: none of the clean photos could be read")
                photo = photos[i % len(photos)]
                try:
                    background = fit_within(read_rgb(photo), request.size)
                    break
                except ImageReadError as exc:
                    skipped.append(str(exc))
                    photos.remove(photo)
            rng = np.random.default_rng([request.seed, i])
            row = writer(staged, rain, background, tmp / f"{i:04d}_{photo.stem}", rng)
            if i < _SHEET_ROWS:
                rows.append(row)
        write_image(tmp / "contact_sheet.png", _sheet(rows))
    return skipped


def write_sheet(request: SynthRequest) -> None:
    """Write the folder ``out`` holding ``contact_sheet.png``: rows of a real photo, then labelled samples.

    Sample ``i`` is exactly what ``derain synth pairs`` with the same options writes as item
    ``i``; photos (real and clean) are shrunk to ``size`` (default 512 px long side) first. The
    folder follows the dataset rule: written atomically, replaced only with ``overwrite``.
    """
    rain = _rain(request)
    photos = _clean_photos(request.clean, request.out)
    check_folder_output(request.out, replace=request.overwrite)
    real = list_images(request.real) if request.real is not None else []
    if request.real is not None and not real:
        raise DatasetError(f"{request.real}: no images found (--real)")
    size = request.size or _SHEET_SIZE
    samples = []
    for i in range(request.count):
        background = fit_within(read_rgb(photos[i % len(photos)]), size)
        rng = np.random.default_rng([request.seed, i])
        comp = add_rain(
            background, rain, rng, composition=request.composition, haze=request.haze, streak_dir=request.streaks
        )
        samples.append(_label(comp.image, comp.regime or (request.preset or DEFAULT_PRESETS["sheet"])))
    rows = []
    for r, start in enumerate(range(0, len(samples), _SAMPLES_PER_ROW)):
        first = [_label(fit_within(read_rgb(real[r % len(real)]), size), "real")] if real else []
        rows.append(first + samples[start : start + _SAMPLES_PER_ROW])
    with atomic_dir(request.out, replace=request.overwrite) as tmp:
        write_image(tmp / "contact_sheet.png", _sheet(rows, height=2 * _THUMB_HEIGHT))


def _rain(request: SynthRequest) -> RainParams | str:
    """The request's rain: a mixture name as is (it draws from ``streaks``), else the preset's params."""
    name = request.preset or DEFAULT_PRESETS[request.kind]
    if name in MIXTURE_NAMES:
        streak_source(request.streaks)  # a missing folder fails before anything is written
        return name
    params = resolve_params(name)
    return params if request.streaks is None else resolve_params(params, texture_dir=request.streaks)


def _clean_photos(clean: Path, out: Path) -> list[Path]:
    """The clean photos; refuses an output folder that is, or contains, the clean folder."""
    photos = list_images(clean)
    if not photos:
        raise DatasetError(f"{clean}: no images found")
    if clean.resolve().is_relative_to(out.resolve()):
        raise WriteError(f"{out}: output folder contains the --clean folder {clean}; pick another --out")
    return photos


def _write_pair(
    request: SynthRequest, rain: RainParams | str, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    composition, haze, streak_dir = request.composition, request.haze, request.streaks
    comp = add_rain(background, rain, rng, composition=composition, haze=haze, streak_dir=streak_dir)
    write_image(request.out / "rain" / f"{item.name}.png", comp.image)
    write_image(request.out / "clean" / f"{item.name}.png", comp.background)
    return [comp.background, comp.image, comp.streaks]


def _write_timelapse(
    request: SynthRequest, params: RainParams | str, background: np.ndarray, item: Path, rng: np.random.Generator
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
        streak_dir=request.streaks,
    )
    digits = max(3, len(str(n - 1)))
    for t, frame in enumerate(frames):
        write_image(item / "rain" / f"{t:0{digits}d}.png", frame.image)
    write_image(item / "clean.png", background)
    return [background, *(f.image for f in frames[:4])]


def _write_video(
    request: SynthRequest, params: RainParams | str, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    n = request.frame_count
    motion, composition, streak_dir = request.motion, request.composition, request.streaks
    frames = synth_video(
        background, n, rng, preset=params, motion=motion, composition=composition, streak_dir=streak_dir
    )
    with VideoWriter(item / "rain", request.fps) as rain, VideoWriter(item / "clean", request.fps) as clean:
        for frame in frames:
            rain.write(frame.image)
            clean.write(frame.background)
    return [frames[0].background, frames[0].image, frames[n // 2].image, frames[-1].image]


_Writer = Callable[[SynthRequest, RainParams | str, np.ndarray, Path, np.random.Generator], list[np.ndarray]]
_WRITERS: dict[str, _Writer] = {"pairs": _write_pair, "timelapse": _write_timelapse, "video": _write_video}


def _thumb(image: np.ndarray, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    """``text`` in white with a black outline in the top-left corner of a float image (a copy)."""
    out = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # putText draws on 8-bit images only
    for colour, thickness in (((0, 0, 0), 4), ((255, 255, 255), 1)):
        cv2.putText(out, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, thickness, cv2.LINE_AA)
    return out.astype(np.float32) / 255.0


def _sheet(rows: list[list[np.ndarray]], height: int = _THUMB_HEIGHT) -> np.ndarray:
    """Thumbnails side by side, one row per item, rows padded with black to the widest."""
    strips = [np.concatenate([_thumb(img, height) for img in row], axis=1) for row in rows]
    width = max(s.shape[1] for s in strips)
    return np.concatenate([np.pad(s, ((0, 2), (0, width - s.shape[1]), (0, 0))) for s in strips], axis=0)
