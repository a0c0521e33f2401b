"""How a benchmark script loads what it compares: bundled models by name plus ``--weights LABEL=FILE``."""

from __future__ import annotations

from derain import Derainer
from derain.commands._options import parse_weights
from derain.eval.bench import load_models

__all__ = ["cpu_models"]


def cpu_models(names: str, weights: list[str]) -> tuple[dict[str, Derainer], dict[str, str]]:
    """Load comma-separated bundled ``names`` and ``LABEL=FILE`` ``weights`` on the CPU.

    Returns label -> derainer and label -> the weights file it came from (for the results' JSON).
    """
    loaded = load_models([n for n in names.split(",") if n], parse_weights(weights), device="cpu")
    return {m.label: m.derainer for m in loaded}, {m.label: str(m.weights) for m in loaded}
