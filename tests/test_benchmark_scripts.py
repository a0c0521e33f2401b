"""Every script in ``benchmarks/`` and ``scripts/device/`` imports against the current package.

The scripts are not run by the suite (they take minutes to hours), so an API they use can move
without a test noticing; importing each one catches a renamed or removed name at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(ROOT.glob("benchmarks/*.py")) + sorted(ROOT.glob("scripts/device/*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{s.parent.name}/{s.stem}" for s in SCRIPTS])
def test_benchmark_script_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_script(script, monkeypatch, "benchmark")  # runs the imports and definitions
    assert script.stem.startswith("_") or callable(getattr(module, "main", None))  # _name: a shared helper
