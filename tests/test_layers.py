"""Layering: nothing below the API imports it, and no module outgrows its room."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "derain"
#: Layers under the API: they hand data up, never call back into it.
BELOW_API = ["train", "inference", "data", "models", "layers", "losses", "checkpoint.py", "atomic.py", "schema.py"]
MAX_LINES = 400


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _modules(part: str) -> list[Path]:
    root = PACKAGE / part
    return [root] if root.is_file() else sorted(root.rglob("*.py"))


@pytest.mark.parametrize("part", BELOW_API)
def test_lower_layers_do_not_import_the_api(part: str) -> None:
    for path in _modules(part):
        bad = {name for name in _imports(path) if name in ("derain.api", "derain.load", "derain.Derainer")}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_module_over_the_size_limit() -> None:
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {str(p.relative_to(PACKAGE)): n for p, n in sizes.items() if n > MAX_LINES} == {}
