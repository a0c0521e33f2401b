"""How a benchmark script saves its numbers: one format, written atomically.

Every script here leaves JSON (for later runs and tools) and a markdown table (for the docs) in
``benchmarks/results/``. Writing them through these helpers keeps the format in one place, and the
atomic rename (:func:`derain.atomic.atomic_path`) means a crash or Ctrl-C at the end of an hour-long
run never leaves a half-written result, nor destroys the previous one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from derain.atomic import atomic_path

__all__ = ["markdown_table", "table_report", "write_json", "write_markdown", "write_results"]


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` to ``path`` as UTF-8 JSON, indent 2, trailing newline; return ``path``.

    Callers that may hold inf/nan pass :func:`derain.eval.report.jsonable` of their data first.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def write_markdown(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, ending in a newline (added when missing); return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def write_results(out_dir: Path, stem: str, data: Any, markdown: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir`` (created if needed); return both paths."""
    return write_json(out_dir / f"{stem}.json", data), write_markdown(out_dir / f"{stem}.md", markdown)


def markdown_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> list[str]:
    """Lines of a markdown table: ``header``, the ``|---|`` rule sized to it, then one line per row."""
    return [_row(header), "|---" * len(header) + "|", *(_row(row) for row in rows)]


def table_report(
    title: str, blurb: str, header: Sequence[object], rows: Iterable[Sequence[object]], command: str
) -> str:
    """A one-table result page: ``# title``, what the columns mean, the table, and the command that made it."""
    return f"# {title}\n\n{blurb}\n\n" + "\n".join(markdown_table(header, rows)) + f"\n\n`{command}`\n"


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"
