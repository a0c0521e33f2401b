"""Model registry: name -> how to build it, its default config and its bundled weights.

Names follow ``family`` or ``family.variant`` (e.g. ``timelapse``, ``timelapse.paper``).
Families are imported explicitly in :mod:`derain.models` -- no directory scans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from derain.errors import ConfigError
from derain.models.base import DerainModel
from derain.registry import Registry

__all__ = ["MODELS", "ModelSpec", "build_model", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model.

    Attributes:
        name: registry name.
        config_cls: frozen dataclass of the architecture's hyper-parameters.
        build: ``config -> model``.
        config: this variant's default config (an instance of ``config_cls``).
        summary: one line shown by ``derain models``.
        paper: seed paper file or citation.
        weights: file name of the bundled ``.safetensors`` in ``derain/weights`` (None if none).
    """

    name: str
    config_cls: type
    build: Callable[[Any], DerainModel]
    config: Any
    summary: str
    paper: str = ""
    weights: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS` (raises on duplicate names)."""
    MODELS.add(spec.name, spec)
    return spec


def make_config(spec: ModelSpec, overrides: dict[str, Any] | None = None) -> Any:
    """Return ``spec.config`` with ``overrides`` applied; unknown keys raise :class:`ConfigError`."""
    overrides = dict(overrides or {})
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"model {spec.name!r}: unknown config key(s) {unknown}; known: {sorted(known)}")
    return dataclasses.replace(spec.config, **overrides)


def build_model(name: str, overrides: dict[str, Any] | None = None) -> DerainModel:
    """Build the registered model ``name`` (random init) with optional config overrides."""
    spec = MODELS.get(name)
    return spec.build(make_config(spec, overrides))
