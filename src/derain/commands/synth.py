"""``derain synth pairs|timelapse|video``: synthetic rain datasets from a folder of clean photos.

Layouts written under ``--out``:

- pairs: ``rain/NAME.png`` + ``clean/NAME.png``
- timelapse: ``<scene>/rain/000.png ...`` + ``<scene>/clean.png`` (the background, kept apart
  from the rainy frames for evaluation only)
- video: ``<clip>/rain/000001.png ...`` + ``<clip>/clean/000001.png ...`` (+ ``fps.txt`` in each)

plus ``contact_sheet.png`` to look at. Item ``i`` draws its randomness from ``(seed, i)`` only, so
the same command and seed give byte-identical files, and a larger ``--count`` keeps the first items.
Clean photos are used in sorted order, cycling when ``--count`` exceeds them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from derain.commands._options import LazyChoices, non_negative_int, positive_int
from derain.errors import ConfigError, DatasetError, WriteError

if TYPE_CHECKING:
    from derain.data.synth import RainParams

__all__ = ["add_parser", "run"]

_SHEET_ROWS = 6
_THUMB_HEIGHT = 128
_DEFAULT_FRAMES = {"pairs": 1, "timelapse": 8, "video": 24}


def _unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain synth``."""
    parser = subparsers.add_parser(
        "synth",
        help="synthesise rainy pairs, time-lapse scenes or moving videos from clean photos",
        description="Synthesise rainy pairs, time-lapse scenes or moving videos from clean photos; "
        "the same command and seed give byte-identical files.",
    )
    parser.add_argument("kind", choices=("pairs", "timelapse", "video"), help="what to synthesise")
    parser.add_argument("--clean", type=Path, required=True, metavar="DIR", help="folder of clean photos")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--count", type=positive_int, default=10, metavar="N", help="pairs, scenes or clips")
    parser.add_argument("--preset", default="medium", metavar="NAME", help="rain preset (default: medium)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed")
    parser.add_argument("--frames", type=positive_int, metavar="N", help="frames per scene/clip (8 / 24)")
    parser.add_argument("--size", type=positive_int, metavar="S", help="shrink photos to at most S px long side")
    parser.add_argument(
        "--composition",
        choices=LazyChoices("derain.data.synth", "COMPOSITIONS"),
        default="additive",
        metavar="NAME",
        help="rain model: %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--haze", type=_unit_float, default=0.0, help="veiling haze strength (pairs only)")
    parser.add_argument("--streaks", type=Path, metavar="DIR", help="folder of streak textures to use instead")
    parser.add_argument(
        "--motion",
        choices=LazyChoices("derain.data.synth", "MOTIONS"),
        default="pan",
        metavar="KIND",
        help="camera motion (video): %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate recorded for videos")
    parser.add_argument("--exposure-drift", type=float, default=0.0, help="per-frame log-gain std (timelapse)")
    parser.add_argument("--noise", type=float, default=0.0, help="sensor noise std (timelapse)")
    parser.add_argument("--jpeg", type=int, metavar="Q", help="JPEG quality of each frame (timelapse)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write ``args.count`` items and a contact sheet; returns the exit code."""
    from derain.data.io import read_rgb, write_image
    from derain.data.synth import resolve_params

    _check_kind_options(args)
    params = resolve_params(args.preset)
    if args.streaks is not None:
        params = resolve_params(params, texture_dir=args.streaks)
    photos = _clean_photos(args.clean, args.out)
    writer = _WRITERS[args.kind]
    rows = []
    for i in range(args.count):
        photo = photos[i % len(photos)]
        background = _shrink(read_rgb(photo), args.size)
        rng = np.random.default_rng([args.seed, i])
        row = writer(args, params, background, args.out / f"{i:04d}_{photo.stem}", rng)
        if i < _SHEET_ROWS:
            rows.append(row)
    write_image(args.out / "contact_sheet.png", _sheet(rows))
    print(f"wrote {args.count} {args.kind} item(s) to {args.out}")
    return 0


def _check_kind_options(args: argparse.Namespace) -> None:
    """Refuse options that the chosen kind would silently ignore."""
    only = {"--haze": ("pairs", args.haze), "--exposure-drift": ("timelapse", args.exposure_drift)}
    only |= {"--noise": ("timelapse", args.noise), "--jpeg": ("timelapse", args.jpeg)}
    for option, (kind, value) in only.items():
        if value and args.kind != kind:
            raise ConfigError(f"{option}: applies to `derain synth {kind}` only, not {args.kind}")


def _clean_photos(clean: Path, out: Path) -> list[Path]:
    """The clean photos; refuses an output folder that is, or contains, the clean folder."""
    from derain.data.io import list_images

    photos = list_images(clean)
    if not photos:
        raise DatasetError(f"{clean}: no images found")
    if clean.resolve().is_relative_to(out.resolve()):
        raise WriteError(f"{out}: output folder contains the --clean folder {clean}; pick another --out")
    return photos


def _shrink(image: np.ndarray, size: int | None) -> np.ndarray:
    """Scale down (area filter) so the long side is at most ``size``; never enlarges."""
    import cv2

    h, w = image.shape[:2]
    if size is None or max(h, w) <= size:
        return image
    scale = size / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _write_pair(
    args: argparse.Namespace, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    from derain.data.io import write_image
    from derain.data.synth import add_rain

    comp = add_rain(background, params, rng, composition=args.composition, haze=args.haze)
    write_image(args.out / "rain" / f"{item.name}.png", comp.image)
    write_image(args.out / "clean" / f"{item.name}.png", comp.background)
    return [comp.background, comp.image, comp.streaks]


def _write_timelapse(
    args: argparse.Namespace, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    from derain.data.io import write_image
    from derain.data.synth import synth_timelapse

    n = args.frames or _DEFAULT_FRAMES["timelapse"]
    frames = synth_timelapse(
        background,
        n,
        rng,
        preset=params,
        composition=args.composition,
        exposure_drift=args.exposure_drift,
        noise_sigma=args.noise,
        jpeg_quality=args.jpeg,
    )
    digits = max(3, len(str(n - 1)))
    for t, frame in enumerate(frames):
        write_image(item / "rain" / f"{t:0{digits}d}.png", frame.image)
    write_image(item / "clean.png", background)
    return [background, *(f.image for f in frames[:4])]


def _write_video(
    args: argparse.Namespace, params: RainParams, background: np.ndarray, item: Path, rng: np.random.Generator
) -> list[np.ndarray]:
    from derain.data.io import VideoWriter
    from derain.data.synth import synth_video

    n = args.frames or _DEFAULT_FRAMES["video"]
    frames = synth_video(background, n, rng, preset=params, motion=args.motion, composition=args.composition)
    with VideoWriter(item / "rain", args.fps) as rain, VideoWriter(item / "clean", args.fps) as clean:
        for frame in frames:
            rain.write(frame.image)
            clean.write(frame.background)
    return [frames[0].background, frames[0].image, frames[n // 2].image, frames[-1].image]


_Writer = Callable[[argparse.Namespace, "RainParams", np.ndarray, Path, np.random.Generator], list[np.ndarray]]
_WRITERS: dict[str, _Writer] = {"pairs": _write_pair, "timelapse": _write_timelapse, "video": _write_video}


def _thumb(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    width = max(1, round(w * _THUMB_HEIGHT / h))
    return cv2.resize(image, (width, _THUMB_HEIGHT), interpolation=cv2.INTER_AREA)


def _sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Thumbnails side by side, one row per item, rows padded with black to the widest."""
    strips = [np.concatenate([_thumb(img) for img in row], axis=1) for row in rows]
    width = max(s.shape[1] for s in strips)
    return np.concatenate([np.pad(s, ((0, 2), (0, width - s.shape[1]), (0, 0))) for s in strips], axis=0)
