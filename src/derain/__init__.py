"""derain: remove rain from photos and videos.

``derain.load(name_or_path)`` returns a :class:`~derain.api.Derainer`; ``derain.list_models()``
lists the registered models. Both are imported on first use, so ``import derain`` (and the
data/eval modules that import :mod:`derain.errors`) does not pull in torch and every model.
:data:`DEFAULT_MODEL` lives here, not in :mod:`derain.api`, so the CLI can show it without torch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
#: The model ``derain run``, ``derain video`` and ``derain demo`` use when none is named.
DEFAULT_MODEL = "fastnet"

__all__ = ["DEFAULT_MODEL", "Derainer", "__version__", "list_models", "load"]

_API_NAMES = frozenset({"Derainer", "list_models", "load"})


def __getattr__(name: str) -> Any:
    """Resolve the API names lazily from :mod:`derain.api` (PEP 562)."""
    if name in _API_NAMES:
        from derain import api

        return getattr(api, name)
    raise AttributeError(f"module 'derain' has no attribute {name!r}")
