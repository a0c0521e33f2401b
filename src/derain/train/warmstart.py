"""Where a run's weights start (``model.init``): random, the bundled weights, or a weights file.

With ``model.init_map`` the file may hold a *different* model (e.g. php's second stage starting
from its first stage, or a family starting from the baseline's encoder): each entry maps a dotted
module prefix of this model to one of the source model (``"": ""`` maps every name to itself).
Every parameter and buffer under a mapped prefix must exist in the source with the same shape --
a typo in the mapping is an error, not a silently random sub-network -- and everything outside the
mapped prefixes keeps its fresh initialisation.

Without a mapping, config keys the run leaves unset that the model declares ``legacy`` (see
:class:`~derain.models.registry.ModelSpec`) take the file's value, so fine-tuning weights written
before such a key existed (``derain adapt`` on the bundled ``memory``) keeps their architecture.
"""

from __future__ import annotations

from pathlib import Path

import torch

from derain.errors import ConfigError
from derain.models import MODELS, DerainModel, build_model
from derain.train.config import ModelSection

__all__ = ["initial_model", "map_state", "resolve_weights"]


def initial_model(section: ModelSection) -> DerainModel:
    """Build ``model.name`` and load ``model.init`` (strict without ``init_map``, mapped with it).

    ``init`` is null, ``bundled`` (this model's bundled weights), ``bundled:NAME`` (another
    registered model's) or a ``.safetensors`` path.

    Raises:
        ConfigError: no such bundled weights, weights of another model or of a routed one
            (:mod:`derain.models.routing`) without a mapping, or a mapping that names missing or
            mis-shaped parameters.
    """
    if section.init is None:
        return build_model(section.name, section.config)
    from derain.checkpoint import apply_weights, file_config, load_weights_file

    path = resolve_weights(section.init, section.name)
    name, config, state = load_weights_file(path)
    if not section.init_map:
        if file_config(name, config).get("route_high"):
            raise ConfigError(
                f"model.init: {path} holds a routed {name} (a light and a heavy expert, inference only); "
                "continue one expert: model.init_map {'': ''} (light) or {'': heavy} (heavy)"
            )
        if name != section.name:
            raise ConfigError(
                f"model.init: {path} holds weights of {name!r}, not {section.name!r} "
                "(declare model.init_map to start from another model's weights)"
            )
        legacy = {k: v for k, v in file_config(name, config).items() if k in MODELS.get(name).legacy}
        return apply_weights(build_model(section.name, {**legacy, **section.config}), state, path)
    model = build_model(section.name, section.config)
    model.load_state_dict(map_state(model.state_dict(), state, section.init_map, path), strict=False)
    return model


def resolve_weights(spec: str, own: str | None, key: str = "model.init") -> Path:
    """The file behind a weights spec: ``bundled`` (model ``own``'s), ``bundled:NAME`` or a path.

    Raises:
        ConfigError: ``bundled`` where no model is implied, or a model without bundled weights (named ``key``).
    """
    from derain.checkpoint import bundled_weights

    if spec != "bundled" and not spec.startswith("bundled:"):
        return Path(spec)
    name = spec.partition(":")[2] or own
    if name is None:
        raise ConfigError(f"{key}: say which model's bundled weights, as 'bundled:NAME'")
    path = bundled_weights(name)
    if path is None:
        raise ConfigError(f"{key}: {name!r} has no bundled weights")
    return path


def map_state(
    target: dict[str, torch.Tensor], source: dict[str, torch.Tensor], mapping: dict[str, str], path: Path | str
) -> dict[str, torch.Tensor]:
    """The source tensors for every ``target`` name under a mapped prefix (longest prefix wins).

    Raises:
        ConfigError: a mapped name is missing from ``source`` or has another shape, or a prefix maps
            no name at all.
    """
    out: dict[str, torch.Tensor] = {}
    used = dict.fromkeys(mapping, False)
    for name, tensor in target.items():
        prefix = max((p for p in mapping if _under(name, p)), key=len, default=None)
        if prefix is None:
            continue
        used[prefix] = True
        rest = name[len(prefix) :].lstrip(".")
        src = ".".join(part for part in (mapping[prefix], rest) if part)
        if src not in source:
            raise ConfigError(f"model.init_map: {name} maps to {src}, which {path} does not hold")
        if source[src].shape != tensor.shape:
            shapes = f"{tuple(source[src].shape)} vs {tuple(tensor.shape)}"
            raise ConfigError(f"model.init_map: {name} <- {src} of {path}: shapes differ ({shapes})")
        out[name] = source[src]
    for prefix, hit in used.items():
        if not hit:
            raise ConfigError(f"model.init_map: prefix {prefix!r} names no parameter or buffer of the model")
    return out


def _under(name: str, prefix: str) -> bool:
    return not prefix or name == prefix or name.startswith(prefix + ".")
