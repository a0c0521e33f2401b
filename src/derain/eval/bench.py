"""Benchmark runner: score models on paired sets, measure their cost, grid them on real photos.

:func:`run_bench` returns the whole benchmark as one JSON-ready dict (the ``report.json`` schema,
:data:`SCHEMA_VERSION`); :mod:`derain.eval.report` turns it into markdown and HTML. Every table
carries the protocol (:data:`derain.eval.metrics.PROTOCOL`) and image count, and every paired set
gets the *identity* row: the rainy input scored against the clean image. Model outputs are scored
as if saved to 8-bit PNG (``quantize=True``), as the published tables were.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from derain import __version__
from derain.api import Derainer, list_models, load
from derain.checkpoint import bundled_weights, read_manifest, update_manifest
from derain.data.arrays import fit_within
from derain.data.io import list_images, read_rgb, write_image
from derain.data.pairing import RAIN_DIRS, find_paired_layout, pair_folders
from derain.errors import ConfigError, DatasetError
from derain.eval.cost import FLOP_NOTE, measure_cost
from derain.eval.metrics import METRIC_NAMES, PROTOCOL, score_images
from derain.eval.report import jsonable, make_grid
from derain.eval.video import score_video_set
from derain.hardware import describe_hardware

__all__ = [
    "IDENTITY",
    "SCHEMA_VERSION",
    "BenchModel",
    "bundled_models",
    "dev_scores",
    "environment",
    "load_models",
    "run_bench",
    "set_name",
    "update_dev_scores",
]

#: Version of the ``report.json`` layout; bump it when keys change.
SCHEMA_VERSION = 1
#: Row label of the rainy input scored against the clean image.
IDENTITY = "identity"
#: Real photos are derained at most this large (longer side, px) before gridding: grids are downscaled anyway.
REAL_MAX_SIDE = 1024
#: Longer side (px) of each grid cell.
GRID_CELL = 384

Log = Callable[[str], None]


@dataclass(frozen=True)
class BenchModel:
    """One benchmarked column.

    Attributes:
        label: column name in the report (registered name, or the user's label for ``--weights``).
        derainer: the loaded model.
        weights: weights file it was loaded from.
        bundled: True when these are the registered model's bundled weights (manifest-updatable).
    """

    label: str
    derainer: Derainer
    weights: Path
    bundled: bool


def bundled_models() -> list[str]:
    """Registered names that have bundled weights (what ``--models all`` means)."""
    return [name for name in list_models() if bundled_weights(name) is not None]


def load_models(
    names: Sequence[str],
    weights: Mapping[str, Path],
    *,
    device: str = "auto",
    tile: int | None = None,
    self_ensemble: bool = False,
) -> list[BenchModel]:
    """Load registered ``names`` (bundled weights) plus ``label -> file`` user weights, all run the same way.

    A label that is also in ``names`` replaces that model's bundled weights with the file.

    Raises:
        ConfigError: no model given, or a label given twice.
        ModelError: unknown name, no bundled weights, or an unreadable weights file.
    """
    labels = list(dict.fromkeys([*names, *weights]))
    if len(labels) < len(names):
        raise ConfigError(f"--models: each model may be named once, got {', '.join(names)}")
    if not labels:
        raise ConfigError("--models: no model to benchmark (name registered models or pass --weights LABEL=FILE)")
    models = []
    for label in labels:
        source = weights.get(label)
        derainer = load(source if source is not None else label, device, tile=tile, self_ensemble=self_ensemble)
        path = source if source is not None else bundled_weights(label)
        models.append(BenchModel(label, derainer, Path(str(path)), bundled=source is None))
    return models


def run_bench(
    models: Sequence[BenchModel],
    sets: Sequence[Path],
    out_dir: Path,
    *,
    real: Sequence[Path] = (),
    video: Sequence[Path] = (),
    max_images: int | None = None,
    cost_size: int = 512,
    cost_runs: int = 3,
    log: Log | None = None,
) -> dict[str, Any]:
    """Run the whole benchmark; grids go to ``out_dir/grids``; returns the ``report.json`` dict.

    Args:
        models: what to benchmark (see :func:`load_models`).
        sets: paired dataset roots (``rain/`` + ``clean/``, see :mod:`derain.data.pairing`).
        out_dir: report folder (grids are written under ``grids/<set>/``).
        real: folders of real rainy photos without ground truth (or roots holding a ``rain/`` folder).
        video: paired clips (``rain/`` + ``clean/`` frames), scored per frame with flicker
            (:mod:`derain.eval.video`); ``max_images`` caps their frames.
        max_images: use only the first N images of each set (None: all).
        cost_size: side of the square image for GFLOPs and CPU ms.
        cost_runs: timed CPU runs behind the median.
        log: progress lines (None: silent).

    Raises:
        DatasetError: a set is not a paired folder, two sets share a name, or pair sizes differ.
        ImageReadError: a ``real`` folder does not exist.
    """
    say = log or (lambda _msg: None)
    _check_unique("--sets", sets)
    _check_unique("--real", real)
    _check_unique("--video", video)
    # Every folder is checked before the cost runs, so a typo fails in seconds, not after them.
    paired = {root: pair_folders(*find_paired_layout(root))[:max_images] for root in sets}
    photos = {folder: _real_images(folder, max_images) for folder in real}
    first = models[0].derainer.engine
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "protocol": PROTOCOL,
        "flop_note": FLOP_NOTE,
        "environment": environment(first.device),
        "settings": {
            "tile": first.tile,
            "overlap": first.overlap,
            "self_ensemble": first.self_ensemble,
            "dtype": str(first.dtype).removeprefix("torch."),
            "max_images": max_images,
            "quantize": True,
            "cost_size": cost_size,
            "cost_runs": cost_runs,
        },
        "models": [],
        "sets": [],
        "real": [],
        "video": [],
    }
    for m in models:
        say(f"cost: {m.label} at {cost_size}x{cost_size}")
        cost = measure_cost(m.derainer.model, cost_size, runs=cost_runs)
        entry = {"label": m.label, "model": m.derainer.name, "weights": str(m.weights), "bundled": m.bundled}
        report["models"].append(entry | cost.as_dict())
    for root, pairs in paired.items():
        say(f"scoring {set_name(root)}")
        report["sets"].append(_score_set(models, root, pairs))
    for root in video:
        say(f"scoring clip {set_name(root)}")
        runs = [(m.label, m.derainer.frames) for m in models]
        report["video"].append(score_video_set(root, runs, max_frames=max_images))
    for folder, (photo_dir, files) in photos.items():
        say(f"grids for {set_name(folder)}")
        report["real"].append(_real_grids(models, photo_dir, files, out_dir))
    return jsonable(report)


def set_name(path: Path) -> str:
    """Name of a set in reports: the folder name, or its parent's for a ``rain/``-style folder."""
    path = Path(path).resolve()
    return path.parent.name if path.name.lower() in RAIN_DIRS else path.name


def _check_unique(option: str, folders: Sequence[Path]) -> None:
    names = [set_name(f) for f in folders]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DatasetError(f"{option}: several folders are named {', '.join(dupes)}; reports key sets by name")


def _score_set(models: Sequence[BenchModel], root: Path, pairs: list[tuple[Path, Path]]) -> dict[str, Any]:
    """Per-image and mean scores of the identity row and every model on one paired set's ``(rain, clean)`` files."""
    images = []
    for rain_path, clean_path in pairs:
        rain, clean = read_rgb(rain_path), read_rgb(clean_path)
        if rain.shape != clean.shape:
            raise DatasetError(f"{rain_path}: size {rain.shape[1]}x{rain.shape[0]} differs from {clean_path}")
        scores = {IDENTITY: score_images(rain, clean, quantize=True)}
        for m in models:
            scores[m.label] = score_images(m.derainer(rain), clean, quantize=True)
        images.append({"name": rain_path.name, "clean": clean_path.name, "scores": scores})
    rows = [IDENTITY, *(m.label for m in models)]
    mean = {row: {k: float(np.mean([im["scores"][row][k] for im in images])) for k in METRIC_NAMES} for row in rows}
    return {"name": set_name(root), "path": str(root), "count": len(images), "mean": mean, "images": images}


def _real_images(folder: Path, max_images: int | None) -> tuple[Path, list[Path]]:
    """The photo folder (``folder`` or its ``rain/``) and its first ``max_images`` photos.

    Raises:
        DatasetError: no photos there.
        ImageReadError: ``folder`` does not exist.
    """
    folder = Path(folder)
    if not list_images(folder) and (folder / "rain").is_dir():
        folder = folder / "rain"
    files = list_images(folder)[:max_images]
    if not files:
        raise DatasetError(f"{folder}: no images found")
    return folder, files


def _real_grids(models: Sequence[BenchModel], folder: Path, files: list[Path], out_dir: Path) -> dict[str, Any]:
    """One PNG per photo in ``files`` (from ``folder``): the input, then each model's output, with labels."""
    name = set_name(folder)
    labels = ["input", *(m.label for m in models)]
    grids = []
    for path in files:
        rgb = fit_within(read_rgb(path), REAL_MAX_SIDE)
        grid = make_grid([rgb, *(m.derainer(rgb) for m in models)], labels, cell=GRID_CELL)
        rel = Path("grids", name, f"{path.stem}.png")
        write_image(out_dir / rel, grid)
        grids.append({"image": path.name, "grid": rel.as_posix()})
    return {"name": name, "path": str(folder), "count": len(grids), "columns": labels, "grids": grids}


def environment(device: torch.device) -> dict[str, Any]:
    """Where the numbers came from: code version, library versions, hardware, date."""
    hardware = describe_hardware(device)
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if (status := _git("status", "--porcelain")) is None else bool(status),
        "package_version": __version__,
        "torch_version": hardware["torch"],
        "python_version": platform.python_version(),
        "cuda_version": torch.version.cuda if device.type == "cuda" else None,
        "gpu": hardware["gpu"],
        "device": hardware["device"],
        "cpu_model": hardware["cpu"],
        "cpu_threads": hardware["threads"],
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _git(*args: str) -> str | None:
    """Output of a read-only git command in the package's checkout, or None outside one."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def dev_scores(report: Mapping[str, Any], label: str) -> dict[str, dict[str, float | int]]:
    """``{set: {psnr_y, ssim_y, psnr_rgb, count}}`` of one model column (the manifest's ``dev_scores``)."""
    return {s["name"]: {**s["mean"][label], "count": s["count"]} for s in report["sets"]}


def update_dev_scores(
    report: Mapping[str, Any], models: Sequence[BenchModel], manifest: Path | None = None
) -> list[str]:
    """Merge each bundled model's scores into its manifest entry's ``dev_scores``; returns updated names.

    Sets not in this report keep their old scores. User weights (``--weights``) are never written.

    Raises:
        ConfigError: the report used ``max_images`` (dev scores must cover whole sets).
    """
    if report["settings"]["max_images"] is not None:
        raise ConfigError("--update-manifest: dev scores must cover whole sets; drop --max-images")
    updated = []
    for m in models:
        if not m.bundled:
            continue
        entry = dict(read_manifest(manifest)[m.label])
        entry["dev_scores"] = {**entry.get("dev_scores", {}), **dev_scores(report, m.label)}
        update_manifest(m.label, entry, manifest)
        updated.append(m.label)
    return updated
