"""Model registry: name -> how to build it and its default config.

Bundled weights, their recipe and scores are in the manifest (:mod:`derain.checkpoint`), not here.

Names follow ``family`` or ``family.variant`` (e.g. ``timelapse``, ``timelapse.paper``).
Families are imported explicitly in :mod:`derain.models` -- no directory scans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from derain.models.base import DerainModel
from derain.registry import Registry
from derain.schema import parse

__all__ = ["MODELS", "ModelSpec", "build_model", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model.

    Attributes:
        name: registry name.
        config_cls: frozen dataclass of the architecture's hyper-parameters.
        build: ``config -> model``.
        config: this variant's default config (an instance of ``config_cls``).
        tiny: overrides of ``config`` giving a few-channel variant, so the registry-wide tests
            (``tests/models/test_registry.py``) build, train and export every model in seconds.
        legacy: values of config keys added after weights were published: a weights file that
            lacks such a key was written before it existed and is rebuilt with this value (so old
            files compute what they were trained to), while new models get ``config``'s default.
            :func:`derain.checkpoint.save_weights` always records these keys.
    """

    name: str
    config_cls: type
    build: Callable[[Any], DerainModel]
    config: Any
    tiny: dict[str, Any] = field(default_factory=dict)
    legacy: dict[str, Any] = field(default_factory=dict)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS` (raises on duplicate names)."""
    MODELS.add(spec.name, spec)
    return spec


def make_config(spec: ModelSpec, overrides: dict[str, Any] | None = None, key: str | None = None) -> Any:
    """Return ``spec.config`` with ``overrides`` applied, checked by :mod:`derain.schema`.

    Errors name ``<key>.<field>`` (``key`` defaults to the model name; a training config passes ``model.config``).

    Raises:
        ConfigError: unknown key, or a value of the wrong type or out of range.
    """
    return parse(spec.config_cls, dict(overrides or {}), spec.name if key is None else key, base=spec.config)


def build_model(name: str, overrides: dict[str, Any] | None = None) -> DerainModel:
    """Build the registered model ``name`` (random init) with optional config overrides."""
    spec = MODELS.get(name)
    return spec.build(make_config(spec, overrides))
