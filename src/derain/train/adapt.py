"""Adapt a ground-truth-free derainer to one fixed camera from its own rainy footage.

This is the use the time-lapse papers (Cho et al. 2020 and the memory paper) make possible: a
static camera records the same scene under changing rain, so its frames are training pairs for the
``timelapse`` objective without any clean image. :func:`adapt_config` turns the bundled model's
recorded recipe (the manifest keeps the exact training config) into a short fine-tuning run on
the user's scenes; :func:`collect_scenes` turns the footage (frame folders or video files) into
scene folders that the ``timelapse_folder`` dataset reads.

Our choices (the papers do not describe fine-tuning): start from the bundled weights, keep the
recipe's objective and loss weights unchanged, and train briefly at the papers' learning rate
(1e-4, cosine decay) without validation, since footage has no ground truth to validate on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from derain.data.datasets import DATASETS, scene_frame_dir
from derain.data.io import list_images, write_image
from derain.data.video import open_video
from derain.errors import ConfigError, DatasetError, ModelError
from derain.train.config import TrainConfig, parse_config

__all__ = ["AdaptOptions", "adapt_config", "adaptable_models", "adaptable_recipe", "check_request", "collect_scenes"]

#: Frames kept per video by default: enough rain variety, bounded disk use.
DEFAULT_FRAMES_PER_VIDEO = 100


@dataclass(frozen=True)
class AdaptOptions:
    """What a user may change about the fine-tuning run; the rest comes from the model's recipe."""

    steps: int = 300
    lr: float = 1e-4
    batch_size: int = 4
    crop: int | None = None  # None: the recipe's crop
    device: str = "auto"
    seed: int = 0


def adaptable_models() -> list[str]:
    """Bundled models whose recorded recipe is ground-truth free (a time-lapse objective)."""
    from derain.checkpoint import read_manifest

    return sorted(name for name, entry in read_manifest().items() if _is_timelapse_recipe(entry.get("config", {})))


def _is_timelapse_recipe(recipe: dict[str, Any]) -> bool:
    kind = recipe.get("data", {}).get("kind", "")
    return kind in DATASETS and DATASETS.get(kind).item_kind == "timelapse"


def adaptable_recipe(model: str) -> dict[str, Any]:
    """The recorded training config of bundled ``model``, checked to be ground-truth free.

    Raises:
        ModelError: ``model`` is unknown, has no bundled weights, or was trained with ground truth.
    """
    from derain.checkpoint import bundled_weights, read_manifest

    recipe = read_manifest().get(model, {}).get("config")
    if recipe is None or bundled_weights(model) is None:
        raise ModelError(f"{model!r} has no bundled weights to adapt (adaptable: {', '.join(adaptable_models())})")
    if not _is_timelapse_recipe(recipe):
        raise ModelError(
            f"{model!r} was trained with ground truth, so footage cannot train it "
            f"(adaptable: {', '.join(adaptable_models())})"
        )
    return recipe


def check_request(model: str, output: Path) -> dict[str, Any]:
    """Validate what the user asked for before any footage is read; returns the model's recipe.

    Raises:
        ModelError: see :func:`adaptable_recipe`.
        ConfigError: ``output`` is not a ``.safetensors`` path.
    """
    if output.suffix != ".safetensors":
        raise ConfigError(f"{output}: the output must be a .safetensors file")
    return adaptable_recipe(model)


def collect_scenes(footage: list[Path], work_dir: Path, frames_per_video: int = DEFAULT_FRAMES_PER_VIDEO) -> list[Path]:
    """One folder of frames per static scene, from frame folders, folders of scenes and video files.

    A folder of scene folders gives one scene per sub-folder that holds images (directly or in
    ``rain/``); otherwise a folder that holds images is one scene. A video file is one scene whose
    frames (at most ``frames_per_video``, evenly spaced) are written as PNGs under
    ``work_dir/frames/<video name>/``. Inputs are only read.

    Raises:
        DatasetError: a path is missing, or is neither a video nor a folder of frames or scenes.
        VideoReadError: a video cannot be decoded.
    """
    scenes: list[Path] = []
    for path in footage:
        if path.is_file():
            scenes.append(_extract_frames(path, work_dir / "frames" / path.stem, frames_per_video))
        elif path.is_dir():
            scenes.extend(_scene_folders(path))
        else:
            raise DatasetError(f"{path}: no such file or folder")
    if len(set(scenes)) != len(scenes):
        raise DatasetError("the same scene was given twice (two videos with one name?)")
    return scenes


def _has_frames(folder: Path) -> bool:
    return bool(list_images(scene_frame_dir(folder)))


def _scene_folders(folder: Path) -> list[Path]:
    """``folder`` itself when it has a ``rain/`` or no scene sub-folders, else its scene sub-folders."""
    if (folder / "rain").is_dir():
        return [folder]
    subfolders = [sub for sub in sorted(folder.iterdir()) if sub.is_dir() and not sub.name.startswith(".")]
    scenes = [sub for sub in subfolders if _has_frames(sub)]
    if scenes:
        return scenes
    if _has_frames(folder):
        return [folder]
    raise DatasetError(f"{folder}: no frames here or in its sub-folders (expected images of one static camera)")


def _extract_frames(video: Path, out_dir: Path, limit: int) -> Path:
    """Write up to ``limit`` evenly spaced frames of ``video`` to ``out_dir``, as one atomic folder.

    A rerun replaces an earlier extraction (never mixes with it) but never deletes a file derain did
    not write there (:func:`derain.outputs.atomic_dir`).
    """
    from derain.outputs import atomic_dir

    info, frames = open_video(video)
    stride = max(1, (info.frame_count or limit) // limit)
    kept = 0
    with atomic_dir(out_dir, replace=True) as tmp:
        for index, frame in enumerate(frames):
            if index % stride:
                continue
            write_image(tmp / f"{kept:05d}.png", frame)
            kept += 1
            if kept == limit:
                break
        if kept < 2:
            raise DatasetError(f"{video}: a time-lapse scene needs at least 2 frames, the video has {kept}")
    return out_dir


def adapt_config(
    model: str, scenes: list[Path], output: Path, run_dir: Path, options: AdaptOptions, init: Path | None = None
) -> TrainConfig:
    """The training config that fine-tunes ``model`` on ``scenes`` and exports to ``output``.

    Args:
        model: a bundled model trained with a time-lapse objective (see :func:`adaptable_models`).
        scenes: scene folders from :func:`collect_scenes`.
        output: the ``.safetensors`` to write; its manifest entry goes to ``output`` with ``.json``.
        run_dir: checkpoints and logs (resumable).
        options: the knobs of :class:`AdaptOptions`.
        init: weights to start from (default: the bundled ones), e.g. an earlier adaptation.

    Raises:
        ModelError, ConfigError: see :func:`check_request`.
    """
    recipe = check_request(model, output)
    crop = options.crop or recipe["data"]["options"].get("crop")
    train = {
        **recipe.get("train", {}),
        "steps": options.steps,
        "lr": options.lr,
        "batch_size": options.batch_size,
        "schedule": "cosine",
        "warmup_steps": min(50, options.steps // 10),
        "min_lr": options.lr / 100,
        "ckpt_every": max(1, min(100, options.steps // 3)),
        "log_every": max(1, min(50, options.steps // 10)),
        "device": options.device,
        "seed": options.seed,
    }
    raw = {
        "model": {**recipe["model"], "init": str(init) if init is not None else "bundled"},
        "objective": recipe["objective"],
        "data": {
            "kind": "timelapse_folder",
            "options": {"scenes": [str(scene) for scene in scenes], "crop": crop, "flip": True, "seed": options.seed},
        },
        "train": train,
        "output": {
            "dir": str(run_dir),
            "export": {"path": str(output), "name": model, "manifest": str(output.with_suffix(".json"))},
        },
    }
    return parse_config(raw)
