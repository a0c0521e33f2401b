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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from derain.errors import ConfigError, DerainError
from derain.schema import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    UnitFloat,
    parse,
    parse_kwargs,
    require,
)

__all__ = [
    "DataSection",
    "ExportSection",
    "ModelSection",
    "ObjectiveSection",
    "OutputSection",
    "ParamGroup",
    "TrainConfig",
    "TrainSection",
    "ValSection",
    "config_to_dict",
    "load_config",
    "parse_config",
]


@dataclass(frozen=True)
class ModelSection:
    """``model``: a registered model name, overrides of its architecture config, and its start.

    ``init`` is where the weights start: null (random), ``bundled`` (the package's weights of
    ``name`` -- fine-tuning, e.g. adapting to one camera's footage), ``bundled:OTHER`` (another
    model's bundled weights) or a ``.safetensors`` path. ``init_map`` (``{this prefix: source
    prefix}``) lets them come from a different model; see :mod:`derain.train.warmstart`.
    """

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    init_map: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [*self.init_map, *self.init_map.values()]
        require(all(isinstance(n, str) for n in names), "init_map", f"prefixes must be strings (got {names})")
        require(not self.init_map or self.init is not None, "init_map", "needs model.init (the source weights)")


@dataclass(frozen=True)
class ObjectiveSection:
    """``objective``: a registered objective; ``options`` are its constructor keyword arguments."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSection:
    """``data``: ``build_dataset(kind, **options)``; ``licence`` (terms of the training data) goes to the manifest."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    licence: str | None = None


@dataclass(frozen=True)
class ValSection:
    """``val``: a paired folder (``rain/`` + ``clean/``) scored with Y-channel PSNR/SSIM every ``every`` steps."""

    path: str
    every: PositiveInt = 500
    max_images: PositiveInt | None = None


@dataclass(frozen=True)
class ParamGroup:
    """``train.param_groups`` entry: model parameters whose dotted name matches the glob ``match`` train at ``lr``."""

    match: str
    lr: PositiveFloat


@dataclass(frozen=True)
class TrainSection:
    """``train``: optimisation and bookkeeping.

    ``amp`` applies on CUDA only (CPU runs in float32 whatever it says). ``schedule: step`` multiplies
    the lr by ``gamma`` at each of ``milestones``; ``cosine`` decays to ``min_lr`` after
    ``warmup_steps`` of linear warm-up. ``device`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    ``param_groups`` give matching parameters their own lr (first match wins; the schedule scales
    every group alike); ``freeze`` lists dotted module prefixes that do not train (one stage of a
    staged recipe); ``ema`` keeps an exponential moving average of the weights with that decay, which
    is validated and exported instead of the raw weights (checkpoints hold both); ``tbptt``
    back-propagates video clips through windows of that many frames (state carried, gradient cut).
    ``channels_last`` trains image models in the channels-last memory format (the inference engine's
    CPU layout); whether it is faster depends on the model and the machine, so measure it first
    (``benchmarks/train_speed.py --layout``). Outputs and checkpoints are the same either way.
    """

    steps: PositiveInt = 6000
    batch_size: PositiveInt = 8
    lr: PositiveFloat = 2e-4
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: NonNegativeFloat = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: Literal["constant", "step", "cosine"] = "constant"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    warmup_steps: NonNegativeInt = 0
    min_lr: NonNegativeFloat = 0.0
    grad_clip: PositiveFloat | None = None
    amp: Literal["off", "bf16", "fp16"] = "off"
    num_workers: NonNegativeInt = 0
    seed: int = 0
    log_every: PositiveInt = 50
    ckpt_every: PositiveInt = 500
    keep_last: PositiveInt = 3
    device: str = "auto"
    deterministic: bool = False
    param_groups: tuple[ParamGroup, ...] = ()
    freeze: tuple[str, ...] = ()
    ema: UnitFloat | None = None
    tbptt: PositiveInt | None = None
    channels_last: bool = False

    def __post_init__(self) -> None:
        require(self.ema is None or 0 < self.ema < 1, "ema", f"must be in (0, 1) or null (got {self.ema})")
        require(
            self.schedule != "step" or bool(self.milestones),
            "milestones",
            "schedule 'step' needs at least one milestone",
        )
        milestones = list(self.milestones)
        require(milestones == sorted(milestones), "milestones", f"must be increasing (got {milestones})")


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
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save the config as UTF-8") from None
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
    config = parse(TrainConfig, raw)
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


# ----------------------------------------------------------------------------- cross-field checks


def _check_semantics(config: TrainConfig) -> None:
    """Registry names, the typed option blocks, objective/data kind match and the val folder."""
    from derain.data.datasets import DATASETS, parse_dataset_options
    from derain.models.registry import MODELS, make_config
    from derain.train.objectives import OBJECTIVES

    spec = _reraise("model.name", MODELS.get, config.model.name)
    make_config(spec, config.model.config, "model.config")
    objective_cls = _reraise("objective.name", OBJECTIVES.get, config.objective.name)
    parse_kwargs(objective_cls, config.objective.options, "objective.options")
    dataset_cls = _reraise("data.kind", DATASETS.get, config.data.kind)
    if objective_cls.kind != dataset_cls.item_kind:
        raise ConfigError(
            f"data.kind: objective {config.objective.name!r} trains on {objective_cls.kind} batches "
            f"but {config.data.kind!r} yields {dataset_cls.item_kind} items"
        )
    parse_dataset_options(config.data.kind, config.data.options, "data.options")
    is_video = bool(getattr(spec.build, "is_video", False))  # a class attribute of the model class
    if (objective_cls.kind == "video") != is_video:
        raise ConfigError(
            f"objective.name: {config.objective.name!r} trains on {objective_cls.kind} batches but "
            f"{config.model.name!r} is {'a video' if is_video else 'an image'} model"
        )
    if config.train.tbptt is not None and not is_video:
        raise ConfigError(f"train.tbptt: only video models unroll clips ({config.model.name!r} is an image model)")
    if config.val is not None:
        _check_val_folder(config.val.path, is_video)


def _check_val_folder(path: str, is_video: bool) -> None:
    from derain.data.pairing import find_paired_layout
    from derain.train.validate import find_clips

    if not Path(path).is_dir():
        raise ConfigError(f"val.path: {path} does not exist (relative paths are from the current directory)")
    if is_video:
        find_clips(path)
        return
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
