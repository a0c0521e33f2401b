"""Is the `memory` model's memory alive? Item diversity and per-photo reads (issue #9).

For each weights file: the mean pairwise cosine similarity of the items (1.0 = one vector), and per
photo the mean pairwise cosine of its queries, the number of items that are the nearest item of at
least one query (``used``; 1 means the memory reads one constant), the mean read entropy (``log M``
= uniform reads) and the range of the read weights. With ``--figure`` it also draws, per photo and
weights file, the photo, the map of each 1/8-scale position's nearest item (one colour per item) and
the read-weight map of the two items used most, each over one shared colour scale per photo.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/memory_items.py \\
        --weights old=src/derain/weights/memory.safetensors new=runs/memory_signed/export/memory.safetensors \\
        --images ../shared/data/bench/real/internet20/rain/001.jpg ../shared/data/bench/real/internet20/rain/002.jpg \\
        --out benchmarks/results/memory_items.md --figure docs/images/memory_items.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from _results import write_markdown
from derain.atomic import atomic_path
from derain.checkpoint import build_from_file
from derain.data.arrays import fit_within, to_chw
from derain.data.io import read_rgb
from derain.errors import DerainError
from derain.models.memory import item_similarity, read_entropy


def reads(model: torch.nn.Module, rgb: np.ndarray) -> tuple[torch.Tensor, float]:
    """``(M, h, w)`` read weights of the 1/8-scale cells that cover the image, and the mean pairwise
    cosine of those cells' queries (items near the queries cannot be more distinct than they are)."""
    with torch.inference_mode():
        out = model(to_chw(rgb)[None])
    d = model.size_divisor
    h, w = -(-rgb.shape[0] // d), -(-rgb.shape[1] // d)
    query = out.query[0, :, :h, :w].flatten(1).T  # (cells, C)
    return out.read_weights[0, :, :h, :w], item_similarity(query)


def figure(rows: list[tuple[str, np.ndarray, torch.Tensor]], path: Path) -> None:
    """One row per (label, photo, reads): photo | nearest item | two most used items' read weights."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(len(rows), 4, figsize=(10, 2.3 * len(rows)), squeeze=False)
    for ax_row, (label, rgb, w) in zip(axes, rows, strict=True):
        nearest = w.argmax(dim=0)
        top = torch.bincount(nearest.flatten(), minlength=w.shape[0]).argsort(descending=True)[:2]
        lo, hi = float(w.min()), float(w.max())
        ax_row[0].imshow(rgb)
        ax_row[0].set_title(label, fontsize=8)
        ax_row[1].imshow(nearest.numpy(), cmap="tab20", vmin=0, vmax=19, interpolation="nearest")
        ax_row[1].set_title(f"nearest item ({int(nearest.unique().numel())} used)", fontsize=8)
        for ax, m in zip(ax_row[2:], top.tolist(), strict=True):
            ax.imshow(w[m].numpy(), cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_title(f"item {m} read weight ({lo:.3f}..{hi:.3f})", fontsize=8)
        for ax in ax_row:
            ax.axis("off")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=60)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", required=True, metavar="LABEL=FILE")
    parser.add_argument("--images", nargs="+", required=True, type=Path)
    parser.add_argument("--max-side", type=int, default=512, help="downscale photos to this side first")
    parser.add_argument("--out", type=Path, required=True, help="markdown table")
    parser.add_argument("--figure", type=Path, default=None, help="PNG of the reads")
    args = parser.parse_args()

    photos = {p: fit_within(read_rgb(p), args.max_side) for p in args.images}
    lines = [
        "| weights | item mean pairwise cosine | photo | query mean pairwise cosine | items used | read entropy "
        "| read weights |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = []
    for spec in args.weights:
        label, _, file = spec.partition("=")
        _, model = build_from_file(file)
        model.eval()
        cos = item_similarity(model.memory.items)
        for path, rgb in photos.items():
            w, query_cos = reads(model, rgb)
            used = int(w.argmax(dim=0).unique().numel())
            lines.append(
                f"| {label} | {cos:.3f} | {path.name} | {query_cos:.3f} | {used} of {w.shape[0]} | "
                f"{read_entropy(w[None]):.3f} | {float(w.min()):.3f}..{float(w.max()):.3f} |"
            )
            rows.append((f"{label}: {path.name}", rgb, w))
    write_markdown(args.out, "\n".join(lines))
    print("\n".join(lines))
    if args.figure is not None:
        figure(rows, args.figure)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DerainError as exc:
        sys.exit(f"memory_items.py: {exc}")
