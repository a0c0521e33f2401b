"""What the weight-making scripts share: write a new weights file, never over an existing one.

``average_weights.py``, ``php_grow.py`` and ``php_open_gate.py`` each build a model from weights
files and save it; this keeps their promise in one place: the output must not exist, a user mistake
is one line on stderr and exit status 1 (nothing written), success is one line naming the file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from torch import nn

from derain.checkpoint import save_weights
from derain.errors import DerainError

__all__ = ["write_new_weights"]


def write_new_weights(tool: str, out: Path, make: Callable[[], tuple[nn.Module, str, dict, str]]) -> int:
    """Save the model that ``make()`` returns as ``(model, model name, config, what it is)`` to a new ``out``.

    Returns the exit status: 0 on success, 1 (one line on stderr) for an existing ``out`` or a
    :class:`~derain.errors.DerainError` / ``OSError`` raised while making or saving.
    """
    try:
        if out.exists():
            raise DerainError(f"{out}: already exists; choose another output")
        model, name, config, what = make()
        save_weights(model, out, model_name=name, config=config)
    except (DerainError, OSError) as error:
        print(f"{tool}: {error}", file=sys.stderr)
        return 1
    print(f"{tool}: wrote {out}{f' ({what})' if what else ''}")
    return 0
