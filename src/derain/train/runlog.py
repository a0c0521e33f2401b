"""Run logs: ``log.jsonl`` (one JSON object per logged step or validation) and ``curves.png``.

Train records are ``{"step", "loss", <terms>, "lr", "time"}``; validation records are
``{"step", "val": {"psnr_y", "ssim_y", "count"}}``. ``step`` counts finished optimiser steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from derain.atomic import atomic_path

__all__ = ["JsonlLog", "plot_curves", "read_log"]


class JsonlLog:
    """Append-only JSONL log that can be cut back to a checkpoint's step on resume."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (written by a run killed after its last checkpoint)."""
        if not self.path.exists():
            return
        kept = [r for r in read_log(self.path) if r["step"] <= step]
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")


def read_log(path: Path) -> list[dict[str, Any]]:
    """All records of a ``log.jsonl``; a torn last line (killed mid-write) is ignored."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def plot_curves(log_path: Path, out_path: Path) -> None:
    """Plot training losses (log scale when positive) and validation PSNR/SSIM against step into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    records = read_log(log_path) if log_path.exists() else []
    train = [r for r in records if "loss" in r]
    val = [r for r in records if "val" in r]
    fig, axes = plt.subplots(1, 3 if val else 1, figsize=(15 if val else 6, 4), squeeze=False)
    ax = axes[0][0]
    for name in _loss_names(train):
        ax.plot([r["step"] for r in train if name in r], [r[name] for r in train if name in r], label=name)
    positive = bool(train) and all(r[k] > 0 for r in train for k in _loss_names([r]))
    ax.set(xlabel="step", ylabel="loss", title="training losses", yscale="log" if positive else "linear")
    if train:
        ax.legend()
    for ax, metric in zip(axes[0][1:], ("psnr_y", "ssim_y"), strict=False):
        ax.plot([r["step"] for r in val], [r["val"][metric] for r in val], marker="o")
        ax.set(xlabel="step", ylabel=metric, title=f"validation {metric}")
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)


def _loss_names(train: list[dict[str, Any]]) -> list[str]:
    names = {k for r in train for k in r if k not in ("step", "lr", "time")}
    return ["loss", *sorted(names - {"loss"})] if names else []
