"""Weights files and the bundled-weights manifest, the one table of what ships.

A weights file is a ``.safetensors`` state dict whose metadata names the registered model and its
config overrides, so a file alone is enough to rebuild the model (``derain.load("my.safetensors")``).
Bundled weights live next to ``weights/manifest.json``; its entry per model name is the only record
of them: ``file``, ``sha256``, ``recipe`` (the YAML it was trained from; ``config`` holds it resolved),
``data`` (kind and options), ``data_licence`` (terms of the training data), ``dev_scores`` and how
the run went (steps, wall time, hardware, command). ``derain models`` prints it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from derain.atomic import atomic_path
from derain.errors import ConfigError, ModelError
from derain.models import MODELS, DerainModel, build_model

__all__ = [
    "MANIFEST",
    "WEIGHTS_DIR",
    "apply_weights",
    "build_from_file",
    "bundled_weights",
    "canonical_safetensors",
    "file_config",
    "file_sha256",
    "load_weights_file",
    "read_manifest",
    "save_weights",
    "update_manifest",
]

#: Folder of the bundled ``*.safetensors`` files (inside the installed package).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The manifest describing the bundled weights.
MANIFEST = WEIGHTS_DIR / "manifest.json"

_MODEL_KEY = "derain_model"
_CONFIG_KEY = "derain_config"
_MAX_LISTED = 3  # keys listed per kind in a mismatch message


def save_weights(model: DerainModel, path: str | Path, *, model_name: str, config: dict[str, Any]) -> Path:
    """Write ``model``'s state dict (parameters and buffers) atomically with its name and config.

    Tensors are cloned so tied weights do not trip safetensors' shared-memory check.

    Args:
        model: the model to save.
        path: destination ``.safetensors`` file.
        model_name: registered name the file rebuilds with.
        config: config overrides for :func:`derain.models.build_model` (JSON-serialisable); the
            model's values of its spec's ``legacy`` keys are added when missing, so the file never
            reads as one written before those keys existed.

    Returns:
        The written path.
    """
    path = Path(path)
    state = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}
    legacy = MODELS.get(model_name).legacy if model_name in MODELS else {}
    config = {**{key: getattr(model.config, key) for key in legacy}, **config}
    metadata = {_MODEL_KEY: model_name, _CONFIG_KEY: json.dumps(config, sort_keys=True)}
    blob = canonical_safetensors(safetensors_bytes(state, metadata=metadata))
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    return path


def canonical_safetensors(blob: bytes) -> bytes:
    """``blob`` with its JSON header written in sorted key order, so equal weights give equal bytes.

    safetensors 0.8 writes ``__metadata__`` in a per-process random order (safetensors issue #584),
    so the same weights saved twice had different SHA-256s and no manifest checksum could be
    reproduced. Offsets are relative to the data after the header, so re-serialising the header
    (padded with spaces to 8 bytes, as the format allows) leaves the tensors as they were.
    """
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + blob[8 + size :]


def load_weights_file(path: str | Path) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    """Read a weights file written by :func:`save_weights`.

    Returns:
        ``(model name, config overrides, state dict)``; JSON lists come back as tuples because
        model configs are frozen (hashable) dataclasses.

    Raises:
        ModelError: missing file, not a safetensors file, or no derain metadata.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not a weights file (give the .safetensors file inside it)")
    if not path.is_file():
        raise ModelError(f"{path}: no such weights file")
    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            state = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a readable .safetensors file ({exc})") from None
    if _MODEL_KEY not in metadata:
        raise ModelError(f"{path}: no {_MODEL_KEY!r} metadata; save weights with derain.checkpoint.save_weights")
    try:
        config = json.loads(metadata.get(_CONFIG_KEY, "{}"), object_hook=_tuples)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: bad {_CONFIG_KEY!r} metadata ({exc})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path}: {_CONFIG_KEY!r} metadata must be a JSON object, got {type(config).__name__}")
    return metadata[_MODEL_KEY], config, state


def file_config(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A weights file's config overrides with the model's ``legacy`` values for the keys it predates."""
    legacy = MODELS.get(name).legacy if name in MODELS else {}
    return {**legacy, **config}


def apply_weights(model: DerainModel, state: dict[str, torch.Tensor], path: str | Path) -> DerainModel:
    """Load ``state`` into ``model`` strictly; on any mismatch raise one line naming ``path``.

    Raises:
        ModelError: missing or unexpected keys, or a tensor whose shape differs from the model's.
    """
    own = model.state_dict()
    problems = []
    for kind, keys in (
        ("missing", own.keys() - state.keys()),
        ("unexpected", state.keys() - own.keys()),
        ("shape mismatch", {k for k in own.keys() & state.keys() if own[k].shape != state[k].shape}),
    ):
        if keys:
            listed = sorted(keys)
            more = f" (+{len(listed) - _MAX_LISTED} more)" if len(listed) > _MAX_LISTED else ""
            problems.append(f"{kind} {', '.join(listed[:_MAX_LISTED])}{more}")
    if problems:
        raise ModelError(f"{path}: weights do not fit model {type(model).__name__}: {'; '.join(problems)}")
    model.load_state_dict(state, strict=True)
    return model


def build_from_file(path: str | Path) -> tuple[str, DerainModel]:
    """Rebuild the model a weights file describes and load its weights.

    Returns:
        ``(registered model name, model)``; the model is in training mode on the CPU.

    Raises:
        ModelError: unreadable file, unknown model or config key, or weights that do not fit.
    """
    name, config, state = load_weights_file(path)
    try:
        model = build_model(name, file_config(name, config))
    except ConfigError as exc:
        raise ModelError(f"{path}: {exc}") from None
    return name, apply_weights(model, state, path)


def read_manifest(path: str | Path | None = None) -> dict[str, Any]:
    """The bundled-weights manifest (``{}`` when there is none yet).

    Raises:
        ModelError: the manifest exists but is not a JSON object.
    """
    path = Path(path) if path is not None else MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{path}: manifest must be a JSON object, got {type(manifest).__name__}")
    return manifest


def update_manifest(name: str, entry: dict[str, Any], path: str | Path | None = None) -> None:
    """Set ``manifest[name] = entry`` with an atomic read-modify-write (other entries are kept)."""
    path = Path(path) if path is not None else MANIFEST
    manifest = read_manifest(path)
    manifest[name] = entry
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, as the manifest records it."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_weights(name: str) -> Path | None:
    """The bundled weights file of registered model ``name``, or None if it has none yet.

    The file's SHA-256 is checked against the manifest when the entry records one.

    Raises:
        ModelError: unknown model name, or the manifest names a file that is missing or altered.
    """
    try:
        MODELS.get(name)
    except ConfigError as exc:
        raise ModelError(str(exc)) from None
    entry = read_manifest().get(name)
    if entry is None:
        return None
    path = MANIFEST.parent / entry["file"]
    if not path.is_file():
        raise ModelError(f"{path}: bundled weights of {name!r} are listed in the manifest but missing")
    expected = entry.get("sha256")
    if expected is not None and file_sha256(path) != expected:
        raise ModelError(f"{path}: SHA-256 differs from the manifest's; the bundled weights of {name!r} were altered")
    return path


def _tuples(obj: dict[str, Any]) -> dict[str, Any]:
    """JSON object hook: lists -> tuples (nested too)."""

    def convert(value: Any) -> Any:
        return tuple(convert(v) for v in value) if isinstance(value, list) else value

    return {k: convert(v) for k, v in obj.items()}
