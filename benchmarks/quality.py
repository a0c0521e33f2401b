"""Regenerate README's quality table: every bundled model on every development paired set.

Runs :func:`derain.eval.bench.run_bench` over each ``paired/<set>`` of the development benchmark
(``../shared/data/bench`` next to the checkout by default) plus grids on its ``real/<set>/rain``
photos, and writes ``benchmarks/results/quality.{json,md,html}`` and ``benchmarks/results/grids/``.

    .venv/bin/python benchmarks/quality.py                      # all bundled models, all sets
    .venv/bin/python benchmarks/quality.py --max-images 2       # smoke run (a minute)
    .venv/bin/python benchmarks/quality.py --update-manifest    # also write dev_scores
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from derain.errors import DerainError
from derain.eval.bench import bundled_models, load_models, run_bench, update_dev_scores
from derain.eval.report import write_report

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "bench", help="benchmark root")
    parser.add_argument("--models", default=None, help="comma-separated names (default: all with bundled weights)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-images", type=int, default=None, help="first N images per set (smoke runs)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--update-manifest", action="store_true", help="write dev_scores into the manifest")
    args = parser.parse_args()

    names = args.models.split(",") if args.models else bundled_models()
    if not names:
        sys.exit("quality.py: no model has bundled weights yet (train, then rerun)")
    sets = sorted(p for p in (args.data / "paired").iterdir() if p.is_dir())
    real = sorted(p / "rain" for p in (args.data / "real").iterdir() if (p / "rain").is_dir())
    models = load_models(names, {}, device=args.device)
    report = run_bench(
        models,
        sets,
        args.out,
        real=real,
        max_images=args.max_images,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    for path in write_report(report, args.out, stem="quality"):
        print(path)
    if args.update_manifest:
        print("manifest updated:", ", ".join(update_dev_scores(report, models)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DerainError as exc:
        sys.exit(f"quality.py: {exc}")
