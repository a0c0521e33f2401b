"""Training config schema: frozen typed dataclasses loaded from one YAML per recipe.

A config has the sections ``model``, ``objective``, ``data``, ``output`` and optionally ``train``
(defaults below) and ``val``. Every key is checked against the schema: an unknown or mistyped key
raises a one-line :class:`~derain.errors.ConfigError` naming its dotted path (with a close match).
``--set train.lr=2e-4`` overrides go through the same parser; the value is read with
``yaml.safe_load``.

Relative paths (data folders, ``val.path``, ``output.dir``, ``output.export.path``) are resolved
against the current working directory; the bundled configs are meant to be run from the repo root.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from derain.errors import ConfigError, DerainError

__all__ = [
    "DATA_ITEM_KINDS",
    "DataSection",
    "ExportSection",
    "ModelSection",
    "ObjectiveSection",
    "OutputSection",
    "TrainConfig",
    "TrainSection",
    "ValSection",
    "config_to_dict",
    "load_config",
    "parse_config",
]

#: What each dataset kind yields; an objective's ``kind`` must match.
DATA_ITEM_KINDS: dict[str, str] = {
    "paired_folder": "paired",
    "synthetic_pairs": "paired",
    "timelapse_folder": "timelapse",
    "synthetic_timelapse": "timelapse",
    "video_folder": "video",
    "synthetic_video": "video",
}


def _positive(default: Any) -> Any:
    """A field whose value must be >= 1 (counts and intervals)."""
    return field(default=default, metadata={"min": 1})


def _non_negative(default: Any) -> Any:
    return field(default=default, metadata={"min": 0})


@dataclass(frozen=True)
class ModelSection:
    """``model``: a registered model name, overrides of its architecture config, and its start.

    ``init`` is where the weights start: null (random), ``bundled`` (the package's weights of
    ``name`` -- fine-tuning, e.g. adapting to one camera's footage) or a ``.safetensors`` path.
    """

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    init: str | None = None


@dataclass(frozen=True)
class ObjectiveSection:
    """``objective``: a registered objective; ``options`` are its constructor keyword arguments."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSection:
    """``data``: ``build_dataset(kind, **options)``."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValSection:
    """``val``: a paired folder (``rain/`` + ``clean/``) scored with Y-channel PSNR/SSIM every ``every`` steps."""

    path: str
    every: int = _positive(500)
    max_images: int | None = _positive(None)


@dataclass(frozen=True)
class TrainSection:
    """``train``: optimisation and bookkeeping.

    ``amp`` applies on CUDA only (CPU runs in float32 whatever it says). ``schedule: step`` multiplies
    the lr by ``gamma`` at each of ``milestones``; ``cosine`` decays to ``min_lr`` after
    ``warmup_steps`` of linear warm-up. ``device`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    """

    steps: int = _positive(6000)
    batch_size: int = _positive(8)
    lr: float = 2e-4
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: float = _non_negative(0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: Literal["constant", "step", "cosine"] = "constant"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    warmup_steps: int = _non_negative(0)
    min_lr: float = _non_negative(0.0)
    grad_clip: float | None = None
    amp: Literal["off", "bf16", "fp16"] = "off"
    num_workers: int = _non_negative(0)
    seed: int = 0
    log_every: int = _positive(50)
    ckpt_every: int = _positive(500)
    keep_last: int = _positive(3)
    device: str = "auto"
    deterministic: bool = False


@dataclass(frozen=True)
class ExportSection:
    """``output.export``: the ``.safetensors`` written at the end and its manifest entry.

    ``manifest`` is the ``manifest.json`` to update; null means the one next to ``path``, so an
    export into the package's ``weights/`` folder updates the bundled manifest and an export
    anywhere else never touches it.
    """

    path: str
    name: str
    manifest: str | None = None


@dataclass(frozen=True)
class OutputSection:
    """``output``: the run folder (checkpoints, logs, resolved config) and the optional export."""

    dir: str
    export: ExportSection | None = None


@dataclass(frozen=True)
class TrainConfig:
    """A whole training recipe."""

    model: ModelSection
    objective: ObjectiveSection
    data: DataSection
    output: OutputSection
    train: TrainSection = field(default_factory=TrainSection)
    val: ValSection | None = None


# ----------------------------------------------------------------------------- loading


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read a YAML recipe, apply ``KEY=VALUE`` overrides, validate and return it.

    Raises:
        ConfigError: the file is missing or not YAML, an override is malformed, or a key is unknown
            or has a bad value.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({_yaml_problem(e)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for item in overrides:
        raw = apply_override(raw, item)
    return parse_config(raw)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """``line 2, column 1: <problem>``, not PyYAML's report that quotes the source around it."""
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(error).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def apply_override(raw: dict[str, Any], item: str) -> dict[str, Any]:
    """Return a copy of ``raw`` with ``a.b.c=value`` set (the value parsed with ``yaml.safe_load``)."""
    key, sep, text = item.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. train.lr=2e-4")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"--set {item!r}: value is not valid YAML") from None
    out = dict(raw)
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = value
    return out


def parse_config(raw: dict[str, Any]) -> TrainConfig:
    """Validate a raw nested dict (types, ranges, registry names, kinds) into a :class:`TrainConfig`."""
    config = _parse(TrainConfig, raw, "")
    _check_semantics(config)
    return config


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain YAML-safe dict of ``config`` (tuples become lists); ``parse_config`` reads it back."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------- typed parsing


def _parse(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against type ``tp``; ``key`` is its dotted path for messages."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(tp, value, key)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _parse(args[0], value, key)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{key}: must be one of {', '.join(map(str, choices))} (got {value!r})")
        return value
    if origin is tuple:
        return _parse_tuple(tp, value, key)
    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping (got {value!r})")
        return dict(value)
    if tp is Any:
        return value
    return _parse_scalar(tp, value, key)


def _parse_scalar(tp: type, value: Any, key: str) -> Any:
    if tp is float and isinstance(value, str):
        try:  # YAML 1.1 reads "2e-4" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[tp]
    if not ok:
        raise ConfigError(f"{key}: expected {tp.__name__} (got {value!r})")
    return float(value) if tp is float else value


def _parse_tuple(tp: Any, value: Any, key: str) -> tuple[Any, ...]:
    args = typing.get_args(tp)
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key}: expected a list (got {value!r})")
    if args[-1] is Ellipsis:
        item_types = [args[0]] * len(value)
    elif len(args) != len(value):
        raise ConfigError(f"{key}: expected {len(args)} values (got {len(value)})")
    else:
        item_types = list(args)
    return tuple(_parse(t, v, f"{key}[{i}]") for i, (t, v) in enumerate(zip(item_types, value, strict=True)))


def _parse_dataclass(cls: type, value: Any, key: str) -> Any:
    where = key or "config"
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping (got {value!r})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in value:
        if name not in fields:
            close = difflib.get_close_matches(str(name), list(fields), n=1)
            hint = f"; did you mean {_join(key, close[0])}?" if close else f" (known: {', '.join(fields)})"
            raise ConfigError(f"{_join(key, str(name))}: unknown key{hint}")
    kwargs = {}
    for name, f in fields.items():
        sub = _join(key, name)
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{sub}: required key is missing")
            continue
        kwargs[name] = _parse(hints[name], value[name], sub)
        _check_min(f, kwargs[name], sub)
    return cls(**kwargs)


def _check_min(f: dataclasses.Field, value: Any, key: str) -> None:
    low = f.metadata.get("min")
    if low is not None and value is not None and value < low:
        raise ConfigError(f"{key}: must be >= {low} (got {value!r})")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# ----------------------------------------------------------------------------- cross-field checks


def _check_semantics(config: TrainConfig) -> None:
    """Registry names, objective options, objective/data kind match, schedule and val folder."""
    from derain.models.registry import MODELS, make_config
    from derain.train.objectives import OBJECTIVES

    spec = _reraise("model.name", MODELS.get, config.model.name)
    _reraise("model.config", make_config, spec, config.model.config)
    objective_cls = _reraise("objective.name", OBJECTIVES.get, config.objective.name)
    _check_options(objective_cls, config.objective)
    if config.data.kind not in DATA_ITEM_KINDS:
        close = difflib.get_close_matches(config.data.kind, list(DATA_ITEM_KINDS), n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(DATA_ITEM_KINDS)})"
        raise ConfigError(f"data.kind: unknown dataset kind {config.data.kind!r}{hint}")
    items = DATA_ITEM_KINDS[config.data.kind]
    if objective_cls.kind != items:
        raise ConfigError(
            f"data.kind: objective {config.objective.name!r} trains on {objective_cls.kind} batches "
            f"but {config.data.kind!r} yields {items} items"
        )
    _check_train(config.train)
    if config.val is not None:
        _check_val_folder(config.val.path)


def _check_val_folder(path: str) -> None:
    from derain.data.pairing import find_paired_layout

    if not Path(path).is_dir():
        raise ConfigError(f"val.path: {path} does not exist (relative paths are from the current directory)")
    try:
        find_paired_layout(path)
    except DerainError as e:
        raise ConfigError(f"val.path: {e}") from None


def _reraise(key: str, fn: Any, *args: Any) -> Any:
    """Call ``fn``; prefix any :class:`ConfigError` with the dotted ``key``."""
    try:
        return fn(*args)
    except ConfigError as e:
        raise ConfigError(f"{key}: {e}") from None


def _check_options(objective_cls: type, section: ObjectiveSection) -> None:
    params = inspect.signature(objective_cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    for name in section.options:
        if name not in params:
            close = difflib.get_close_matches(name, list(params), n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(params) or 'none'})"
            raise ConfigError(f"objective.options.{name}: unknown option for {section.name!r}{hint}")


def _check_train(train: TrainSection) -> None:
    if train.lr <= 0:
        raise ConfigError(f"train.lr: must be > 0 (got {train.lr})")
    if train.schedule == "step" and not train.milestones:
        raise ConfigError("train.milestones: schedule 'step' needs at least one milestone")
    if list(train.milestones) != sorted(train.milestones):
        raise ConfigError(f"train.milestones: must be increasing (got {list(train.milestones)})")
    if train.grad_clip is not None and train.grad_clip <= 0:
        raise ConfigError(f"train.grad_clip: must be > 0 or null (got {train.grad_clip})")
