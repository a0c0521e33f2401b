"""Benchmark report writers: ``report.json``, ``report.md``, ``index.html`` and labelled image grids.

All writers read the dict :func:`derain.eval.bench.run_bench` returns, so the three files never
disagree. Every quality table states the protocol, the set and its image count, and starts with the
identity row; the cost table states the input size, thread count and what the GFLOPs count.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from derain.atomic import atomic_path
from derain.eval.metrics import METRIC_NAMES

__all__ = ["jsonable", "make_grid", "markdown", "to_html", "write_report"]

_HEADERS = {"psnr_y": "PSNR-Y", "ssim_y": "SSIM-Y", "psnr_rgb": "PSNR-RGB"}
_DIGITS = {"psnr_y": 2, "ssim_y": 4, "psnr_rgb": 2}
_VIDEO_NOTE = (
    "Per-frame scores (same protocol) averaged over the clip, each model run through it in order "
    "(video models carry their state; image models run per frame). Flicker: mean |Y change| between "
    "consecutive outputs on pixels where the clean clip does not change; clean = the floor."
)
_LABEL_BAND = 26  # px above each grid cell for its label
_GAP = 4  # px between grid cells
_CSS = (
    "body{font-family:sans-serif;max-width:1600px}table{border-collapse:collapse}"
    "td,th{padding:2px 8px;border:1px solid #ccc}img{max-width:100%}"
)


def jsonable(value: Any) -> Any:
    """Copy of ``value`` that strict JSON accepts: inf/nan -> None, tuples -> lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write_report(report: Mapping[str, Any], out_dir: Path, *, stem: str = "report") -> list[Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and an HTML page into ``out_dir`` (each atomically).

    The page is ``index.html`` for the default stem (a report folder), else ``<stem>.html``.
    """
    texts = {
        f"{stem}.json": json.dumps(jsonable(report), indent=2, allow_nan=False) + "\n",
        f"{stem}.md": markdown(report),
        "index.html" if stem == "report" else f"{stem}.html": to_html(report),
    }
    written = []
    for name, text in texts.items():
        with atomic_path(Path(out_dir) / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(Path(out_dir) / name)
    return written


def _fmt(value: float | None, metric: str) -> str:
    return "inf" if value is None else f"{value:.{_DIGITS[metric]}f}"


def _quality_rows(s: Mapping[str, Any]) -> list[list[str]]:
    return [[row, *(_fmt(scores[k], k) for k in METRIC_NAMES)] for row, scores in s["mean"].items()]


def _cost_rows(report: Mapping[str, Any]) -> list[list[str]]:
    return [
        [m["label"], m["model"], f"{m['params'] / 1e6:.3f}", f"{m['gflops']:.2f}", f"{m['cpu_ms']:.1f}"]
        for m in report["models"]
    ]


def _cost_header(report: Mapping[str, Any]) -> list[str]:
    size = report["settings"]["cost_size"]
    threads = report["environment"]["cpu_threads"]
    return ["model", "architecture", "params (M)", f"GFLOPs @{size}²", f"CPU ms @{size}² ({threads} threads)"]


_VIDEO_HEADER = ["model", *(_HEADERS[k] for k in METRIC_NAMES), "flicker (Y, static px)"]


def _video_rows(v: Mapping[str, Any]) -> list[list[str]]:
    """One row per model; the clean row has only the flicker floor."""
    rows = []
    for row, scores in v["mean"].items():
        metrics = [_fmt(scores[k], k) if k in scores else "—" for k in METRIC_NAMES]
        flicker = scores["flicker"]
        rows.append([row, *metrics, "—" if flicker is None or flicker != flicker else f"{flicker:.3f}"])
    return rows


def _video_caption(v: Mapping[str, Any]) -> str:
    return f"{v['name']}: {v['count']} frames (static: clean Y changes < {v['static_y']:g})"


def _quality_caption(s: Mapping[str, Any]) -> str:
    return f"{s['name']}: {s['count']} images"


def _environment_line(report: Mapping[str, Any]) -> str:
    env = report["environment"]
    commit = (env["git_commit"] or "unknown")[:12] + ("+dirty" if env["git_dirty"] else "")
    return (
        f"derain {env['package_version']} (commit {commit}), torch {env['torch_version']}, device {env['device']}, "
        f"CPU {env['cpu_model']}, tile {report['settings']['tile']}{_mirror(report)}, {env['date']}"
    )


def _mirror(report: Mapping[str, Any]) -> str:
    """How the outputs were made, when not by one plain pass (reports before the setting existed: plain)."""
    if not report["settings"].get("self_ensemble"):
        return ""
    return ", self-ensemble (each score averages a pass and its left-right mirror; costs are one pass)"


def markdown(report: Mapping[str, Any]) -> str:
    """The report as markdown: environment, cost table, one quality table per set, grid links."""
    lines = ["# derain benchmark", "", _environment_line(report), ""]
    lines += ["## Cost", "", *_md_table(_cost_header(report), _cost_rows(report)), "", report["flop_note"], ""]
    lines += ["## Quality", "", f"Protocol: {report['protocol']}.", ""]
    for s in report["sets"]:
        lines += [f"### {_quality_caption(s)}", ""]
        lines += [*_md_table(["model", *(_HEADERS[k] for k in METRIC_NAMES)], _quality_rows(s)), ""]
    if report.get("video"):
        lines += ["## Video clips", "", _VIDEO_NOTE, ""]
    for v in report.get("video", []):
        lines += [f"### {_video_caption(v)}", "", *_md_table(_VIDEO_HEADER, _video_rows(v)), ""]
    for r in report["real"]:
        lines += [f"## Real photos: {r['name']} ({r['count']} images, no ground truth)", ""]
        lines += [f"Columns: {', '.join(r['columns'])}.", ""]
        lines += [f"![{g['image']}]({g['grid']})" for g in r["grids"]] + [""]
    return "\n".join(lines)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def to_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (grids linked as relative PNGs)."""
    esc = html.escape
    body = [f"<h1>derain benchmark</h1><p>{esc(_environment_line(report))}</p>", "<h2>Cost</h2>"]
    body += [_html_table(_cost_header(report), _cost_rows(report)), f"<p>{esc(report['flop_note'])}</p>"]
    body += ["<h2>Quality</h2>", f"<p>Protocol: {esc(report['protocol'])}.</p>"]
    for s in report["sets"]:
        header = ["model", *(_HEADERS[k] for k in METRIC_NAMES)]
        body += [f"<h3>{esc(_quality_caption(s))}</h3>", _html_table(header, _quality_rows(s))]
    if report.get("video"):
        body += ["<h2>Video clips</h2>", f"<p>{esc(_VIDEO_NOTE)}</p>"]
    for v in report.get("video", []):
        body += [f"<h3>{esc(_video_caption(v))}</h3>", _html_table(_VIDEO_HEADER, _video_rows(v))]
    for r in report["real"]:
        body.append(f"<h2>Real photos: {esc(r['name'])} ({r['count']} images, no ground truth)</h2>")
        body.append(f"<p>Columns: {esc(', '.join(r['columns']))}.</p>")
        body += [
            f'<figure><img src="{esc(g["grid"])}" alt="{esc(g["image"])}">'
            f"<figcaption>{esc(g['image'])}</figcaption></figure>"
            for g in r["grids"]
        ]
    head = f'<meta charset="utf-8"><title>derain benchmark</title><style>{_CSS}</style>'
    return f"<!doctype html><html><head>{head}</head><body>\n" + "\n".join(body) + "\n</body></html>\n"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{cells}</table>"


def make_grid(images: Sequence[np.ndarray], labels: Sequence[str], *, cell: int = 384) -> np.ndarray:
    """Side-by-side comparison: each image downscaled to ``cell`` px on its longer side, a label above.

    Args:
        images: same-sized float ``(H, W, 3)`` RGB in [0, 1] (the input, then each model's output).
        labels: one per image.
        cell: longer side of each cell in pixels (never upscaled).

    Returns:
        float32 ``(H', W', 3)`` grid on a white background.

    Raises:
        ValueError: counts differ, or the images differ in size.
    """
    if len(images) != len(labels) or not images:
        raise ValueError(f"need one label per image, got {len(images)} images and {len(labels)} labels")
    if len({im.shape for im in images}) != 1:
        raise ValueError(f"grid images must share one size, got {sorted({im.shape for im in images})}")
    h, w = images[0].shape[:2]
    scale = min(1.0, cell / max(h, w))
    ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
    grid = np.full((_LABEL_BAND + ch, len(images) * (cw + _GAP) - _GAP, 3), 255, np.uint8)  # putText wants 8 bits
    for i, (im, label) in enumerate(zip(images, labels, strict=True)):
        x0 = i * (cw + _GAP)
        small = cv2.resize(np.asarray(im, np.float32), (cw, ch), interpolation=cv2.INTER_AREA)
        grid[_LABEL_BAND:, x0 : x0 + cw] = np.round(np.clip(small, 0.0, 1.0) * 255)
        cv2.putText(grid, label, (x0 + 4, _LABEL_BAND - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return grid.astype(np.float32) / 255.0
