"""What the rain of a paired set looks like: statistics of the true rain layer, per image.

Written to replace the throw-away measurement of the Rain100H pairs that the ``long`` regime was
drawn from (docs/quality.md, "Long streaks"), and to set synthetic rain beside real rain in the same
terms. On Y (grey levels, MATLAB's BT.601 as the benchmark scores), with ``R = rain - clean``:

- ``identity``: PSNR-Y of the rainy image (how much rain there is);
- ``negative``: share of pixels darker than the clean image by more than the rain-free threshold
  (``tone_shift.RAIN_FREE_Y``, 3 % of the range): rain that darkens;
- ``bright``: share of pixels brighter by more than 10 % of the range (25.5 grey levels);
- ``clipped``: share of pixels white in the rainy image (every channel >= 254/255) and not in the clean;
- ``tilt80``: streak angle from vertical, in degrees, that 80 % of the layer's gradient energy lies
  within (a streak is perpendicular to its gradient; energy = squared Sobel magnitude on rain pixels);
- ``width``: streak width at half height in px, assuming Gaussian cross-sections: sqrt(2) times the
  half-width at half maximum of the layer's row autocorrelation (inf: not reached within 32 px).
  The layer's median is taken off first, so where rain covers over half the pixels the width reads low;
- ``vcorr20``: the layer's autocorrelation 20 rows down (long streaks keep it near 1, drops near 0).

    python benchmarks/rain_stats.py --sets ../shared/data/bench/paired/rain100h_trainsub18 runs/val/long_ho
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from _results import table_report, write_results
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.eval.metrics import rgb_to_y
from tone_shift import RAIN_FREE_Y, psnr_y

REPO = Path(__file__).resolve().parents[1]
KEYS = ("identity", "negative", "bright", "clipped", "tilt80", "width", "vcorr20")
BRIGHT_Y = 0.1 * 255
WHITE = 254 / 255


def _autocorrelation(layer: np.ndarray, axis: int, lags: int) -> np.ndarray:
    """Normalised autocorrelation of ``layer`` along ``axis`` for lags 0..lags-1, lines pooled.

    The layer's median is taken off first (a veil is not a streak) but not each line's mean: a
    vertical streak is a constant column, and centring it would erase it.
    """
    lines = np.moveaxis(layer - np.median(layer), axis, -1)
    n = lines.shape[-1]
    out = np.zeros(lags)
    for k in range(lags):
        a, b = lines[..., : n - k], lines[..., k:]
        norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
        out[k] = float((a * b).sum()) / norm if norm > 0 else 0.0
    return out


def _half_width(correlation: np.ndarray) -> float:
    """Lag (interpolated) where a correlation falling from 1 first reaches 0.5."""
    below = np.nonzero(correlation < 0.5)[0]
    if correlation[0] < 0.5:  # no layer at all
        return float("nan")
    if len(below) == 0:
        return float("inf")
    k = int(below[0])
    return k - 1 + (correlation[k - 1] - 0.5) / (correlation[k - 1] - correlation[k])


def _tilt80(layer: np.ndarray, on_rain: np.ndarray) -> float:
    """Angle from vertical holding 80 % of the squared gradient magnitude on rain pixels, degrees."""
    gx = cv2.Sobel(layer, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(layer, cv2.CV_64F, 0, 1, ksize=3)
    weight = (gx * gx + gy * gy)[on_rain]
    if weight.sum() == 0:
        return float("nan")
    tilt = np.degrees(np.arctan2(np.abs(gy[on_rain]), np.abs(gx[on_rain])))
    order = np.argsort(tilt)
    cumulative = np.cumsum(weight[order]) / weight.sum()
    return float(tilt[order][np.searchsorted(cumulative, 0.8)])


def layer_stats(rain: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """The module docstring's figures for one pair (float RGB images in [0, 1])."""
    y_rain, y_clean = rgb_to_y(rain), rgb_to_y(clean)
    layer = y_rain - y_clean
    white = (rain >= WHITE).all(axis=2) & ~(clean >= WHITE).all(axis=2)
    rows = _autocorrelation(layer, axis=1, lags=min(32, layer.shape[1]))
    columns = _autocorrelation(layer, axis=0, lags=min(21, layer.shape[0]))
    return {
        "identity": psnr_y(y_rain, y_clean),
        "negative": float((layer < -RAIN_FREE_Y).mean()),
        "bright": float((layer > BRIGHT_Y).mean()),
        "clipped": float(white.mean()),
        "tilt80": _tilt80(layer, np.abs(layer) >= RAIN_FREE_Y),
        "width": float(np.sqrt(2.0) * _half_width(rows)),
        "vcorr20": float(columns[20]) if len(columns) > 20 else float("nan"),
    }


def set_stats(folder: Path) -> list[dict[str, float]]:
    """:func:`layer_stats` of every pair of a paired folder."""
    return [layer_stats(read_rgb(r), read_rgb(c)) for r, c in pair_folders(*find_paired_layout(folder))]


def _cell(values: list[float], key: str) -> str:
    percent = key in ("negative", "bright", "clipped")
    scale, unit = (100.0, " %") if percent else (1.0, "")
    v = np.array(values) * scale
    return f"{np.nanmedian(v):.1f}{unit} ({np.nanmin(v):.1f}–{np.nanmax(v):.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, nargs="+", required=True, help="paired folders (rain/ + clean/)")
    parser.add_argument("--name", default="rain_stats", help="stem of the result files")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    for folder in args.sets:
        if not folder.is_dir():
            print(f"rain_stats: {folder} not found", file=sys.stderr)
            return 1
    results = {folder.name: set_stats(folder) for folder in args.sets}
    header = ["set", "pairs", "identity PSNR-Y", "negative", "bright", "clipped", "tilt80 (°)", "width (px)", "vcorr20"]
    rows = [[name, str(len(s)), *(_cell([x[k] for x in s], k) for k in KEYS)] for name, s in results.items()]
    command = "python benchmarks/rain_stats.py --sets " + " ".join(map(str, args.sets))
    blurb = (
        "Median (min–max) over each set's images; the columns are defined in `benchmarks/rain_stats.py`'s docstring"
        " (width inf: the layer's rows stay correlated over 32 px, a veil or bands rather than streaks)."
    )
    text = table_report("The true rain layer of each set", blurb, header, rows, command)
    write_results(args.out, args.name, {"sets": results}, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
