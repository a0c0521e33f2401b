"""One typed-option mechanism for every config block: train sections, dataset options, model configs,
objective options.

A block is described by a frozen dataclass (or, for objectives, a constructor signature); its type
hints are the schema. :func:`parse` maps a YAML mapping onto it and every mistake is the same
one-line :class:`~derain.errors.ConfigError` naming the dotted key:

- ``data.options.crpo: unknown key; did you mean data.options.crop?``
- ``train.steps: expected int (got 1.5)``
- ``train.steps: must be >= 1 (got 0)``
- ``model.config.depth: required key is missing``

Ranges are part of the type, ``Annotated[int, Range(min=1)]`` (aliases :data:`PositiveInt` ...), so a
signature and a dataclass field say them the same way. Cross-field rules live in the dataclass's
``__post_init__`` and raise ``ConfigError("<field>: <problem>")`` through :func:`require`; the parser
prefixes the block's dotted key.

Coercions, the same everywhere: an int is accepted for a float, and so is a string that reads as one
(YAML 1.1 reads ``2e-4`` as a string), but never NaN or infinity; a list becomes a tuple, and a
single value a 1-tuple where any number of values is allowed (``preset: medium``); ``null`` for a
mapping is an empty one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from derain.errors import ConfigError

__all__ = [
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "Range",
    "UnitFloat",
    "join",
    "parse",
    "parse_kwargs",
    "require",
]

T = TypeVar("T")
_MISSING = object()


@dataclass(frozen=True)
class Range:
    """Bounds of a number, inclusive; ``above`` is an exclusive lower bound (``lr > 0``)."""

    min: float | None = None
    max: float | None = None
    above: float | None = None

    def check(self, value: Any, key: str, given: Any) -> None:
        """Raise naming ``key`` and the value as the user ``given`` it (``-1``, not the parsed ``-1.0``)."""
        if self.above is not None and not value > self.above:
            raise ConfigError(f"{key}: must be > {self.above} (got {given!r})")
        if self.min is not None and self.max is not None and not self.min <= value <= self.max:
            raise ConfigError(f"{key}: must be in [{self.min}, {self.max}] (got {given!r})")
        if self.min is not None and value < self.min:
            raise ConfigError(f"{key}: must be >= {self.min} (got {given!r})")
        if self.max is not None and value > self.max:
            raise ConfigError(f"{key}: must be <= {self.max} (got {given!r})")


PositiveInt = Annotated[int, Range(min=1)]
NonNegativeInt = Annotated[int, Range(min=0)]
PositiveFloat = Annotated[float, Range(above=0)]
NonNegativeFloat = Annotated[float, Range(min=0)]
UnitFloat = Annotated[float, Range(min=0, max=1)]


def require(ok: bool, key: str, problem: str) -> None:
    """Raise ``ConfigError("<key>: <problem>")`` unless ``ok``; for cross-field rules in ``__post_init__``."""
    if not ok:
        raise ConfigError(f"{key}: {problem}")


def join(prefix: str, name: str) -> str:
    """Dotted key ``prefix.name`` (just ``name`` at the top level)."""
    return f"{prefix}.{name}" if prefix else name


def parse(tp: type[T] | Any, value: Any, key: str = "", *, base: Any = None) -> T:
    """Check ``value`` against the type ``tp`` and return it typed; ``key`` is its dotted path for messages.

    Args:
        tp: a dataclass, or any supported hint (bool, int, float, str, Literal, tuple, dict, Union,
            Annotated with a :class:`Range`, Any).
        value: the raw YAML value.
        key: dotted path of ``value`` in the config (``""`` for the top level).
        base: for a dataclass, an instance whose values stand in for keys ``value`` leaves out
            (a model variant's defaults); without it, the fields' own defaults do.

    Raises:
        ConfigError: one line naming the dotted key.
    """
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(tp, value, key, base)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        parsed = parse(args[0], value, key)
        for extra in args[1:]:
            if isinstance(extra, Range):
                extra.check(parsed, key, value)
        return parsed
    if origin in (typing.Union, types.UnionType):
        return _parse_union(args, value, key)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: must be one of {', '.join(map(str, args))} (got {value!r})")
        return value
    if origin is tuple:
        return _parse_tuple(args, value, key)
    if origin in (dict, Mapping) or tp is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping (got {value!r})")
        return dict(value)
    if tp is Any:
        return value
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key}: expected null (got {value!r})")
    return _parse_scalar(tp, value, key)


def parse_kwargs(fn: Callable[..., Any], value: Any, key: str) -> dict[str, Any]:
    """Check keyword arguments for ``fn`` (e.g. an objective's constructor) against its signature's hints.

    Parameters without a hint take any value; a ``**kwargs`` signature accepts unknown keys as they are.
    """
    hints = typing.get_type_hints(fn.__init__ if inspect.isclass(fn) else fn, include_extras=True)
    params = inspect.signature(fn).parameters.values()
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    specs = {
        p.name: (hints.get(p.name, Any), p.default is inspect.Parameter.empty)
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return _parse_fields(specs, value, key, open_ended=open_ended)


# ----------------------------------------------------------------------------- internals


def _parse_dataclass(cls: type, value: Any, key: str, base: Any) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    specs = {
        f.name: (hints[f.name], base is None and f.default is _DC_MISSING and f.default_factory is _DC_MISSING)
        for f in fields
    }
    kwargs = _parse_fields(specs, {} if value is None and base is not None else value, key)
    try:
        return dataclasses.replace(base, **kwargs) if base is not None else cls(**kwargs)
    except ConfigError as e:  # a __post_init__ rule, named relative to the block
        raise ConfigError(join(key, str(e))) from None


_DC_MISSING: Any = dataclasses.MISSING


def _parse_fields(
    specs: dict[str, tuple[Any, bool]], value: Any, key: str, *, open_ended: bool = False
) -> dict[str, Any]:
    """``specs``: name -> (hint, required). Unknown keys, missing required keys and bad values raise."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key or 'config'}: expected a mapping (got {value!r})")
    for name in value:
        if name not in specs and not open_ended:
            close = difflib.get_close_matches(str(name), list(specs), n=1)
            known = ", ".join(specs) or "none"
            hint = f"; did you mean {join(key, close[0])}?" if close else f" (known: {known})"
            raise ConfigError(f"{join(key, str(name))}: unknown key{hint}")
    for name, (_, required) in specs.items():
        if required and name not in value:
            raise ConfigError(f"{join(key, name)}: required key is missing")
    return {
        name: parse(specs[name][0], item, join(key, str(name))) if name in specs else item
        for name, item in value.items()
    }


def _parse_union(args: tuple[Any, ...], value: Any, key: str) -> Any:
    if value is None and type(None) in args:
        return None
    for arm in args:
        if arm is type(None):
            continue
        try:
            return parse(arm, value, key)
        except ConfigError as e:
            if not str(e).startswith(f"{key}: expected "):  # right type, bad value: that is the error
                raise
    raise ConfigError(f"{key}: expected {_type_name(args)} (got {value!r})")


def _parse_tuple(args: tuple[Any, ...], value: Any, key: str) -> tuple[Any, ...]:
    variadic = len(args) == 2 and args[1] is Ellipsis
    if variadic and not isinstance(value, list | tuple):
        value = [value]  # a single name for a list of names
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key}: expected a list (got {value!r})")
    if not variadic and len(args) != len(value):
        raise ConfigError(f"{key}: expected {len(args)} values (got {len(value)})")
    item_types = [args[0]] * len(value) if variadic else list(args)
    return tuple(parse(t, v, f"{key}[{i}]") for i, (t, v) in enumerate(zip(item_types, value, strict=True)))


def _parse_scalar(tp: Any, value: Any, key: str) -> Any:
    if tp is float and isinstance(value, str):
        with contextlib.suppress(ValueError):  # YAML 1.1 reads "2e-4" (no dot) as a string
            value = float(value)
    if tp is float and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: must be a finite number (got {value})")  # .nan/.inf would poison training
    checks = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }
    if tp not in checks:
        raise TypeError(f"{key}: schema type {tp!r} is not supported")  # a programming error, not a user one
    if not checks[tp](value):
        raise ConfigError(f"{key}: expected {_type_name((tp,))} (got {value!r})")
    return float(value) if tp is float else value


def _type_name(args: tuple[Any, ...]) -> str:
    names = []
    for arm in args:
        origin = typing.get_origin(arm)
        if origin is Annotated:
            names.append(_type_name(typing.get_args(arm)[:1]))
        elif origin is tuple:
            names.append(f"a list of {_type_name(typing.get_args(arm)[:1])}")
        elif origin is Literal:
            names.append(" or ".join(map(repr, typing.get_args(arm))))
        elif origin in (typing.Union, types.UnionType):
            names.append(_type_name(typing.get_args(arm)))
        else:
            names.append("null" if arm is type(None) else getattr(arm, "__name__", str(arm)))
    return " or ".join(names)
