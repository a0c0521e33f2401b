"""Pick the checkpoint a ``--resume`` continues from, and refuse one that belongs to another recipe.

A run killed while copying its folder, or a full disk, can leave the newest ``step_*.pt`` truncated;
resuming then falls back to the previous one and says so, instead of failing with an unpickling
traceback. A checkpoint written for another model is named as such (``model.name``), since its
weights cannot continue this run.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import torch

from derain.errors import ConfigError

__all__ = ["check_same_model", "newest_readable_checkpoint", "one_line"]


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def newest_readable_checkpoint(ckpt_dir: Path, map_location: torch.device, *, report: bool) -> tuple[dict, Path]:
    """The newest ``step_*.pt`` in ``ckpt_dir`` that loads; unreadable newer ones are reported (``report``) and skipped.

    Raises:
        ConfigError: no checkpoint loads.
    """
    for path in sorted(ckpt_dir.glob("step_*.pt"), reverse=True):
        try:
            return torch.load(path, map_location=map_location, weights_only=False), path  # our own run: trusted
        except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
            if report:
                print(
                    f"derain: warning: {path}: unreadable checkpoint ({one_line(exc)}); trying the previous one",
                    file=sys.stderr,
                )
    raise ConfigError(f"output.dir: no readable checkpoint in {ckpt_dir}; remove it to start afresh")


def check_same_model(ckpt: dict[str, Any], path: Path, model_name: str) -> None:
    """Raise if ``ckpt`` was trained as another registered model than ``model_name``."""
    was = ckpt.get("config", {}).get("model", {}).get("name")
    if was is not None and was != model_name:
        raise ConfigError(
            f"model.name: {path} was trained as {was!r}, the config now says {model_name!r}; "
            "restore model.name or choose another output.dir"
        )
