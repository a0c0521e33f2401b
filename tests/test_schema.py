"""derain.schema: the one parser behind train config sections, dataset options, model configs and objective options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pytest

from derain.errors import ConfigError
from derain.schema import NonNegativeFloat, PositiveInt, Range, UnitFloat, parse, parse_kwargs, require


@dataclass(frozen=True)
class Inner:
    size: PositiveInt = 4
    names: tuple[str, ...] = ("a",)


@dataclass(frozen=True)
class Block:
    mode: Literal["fast", "slow"]
    scale: UnitFloat = 0.5
    pair: tuple[int, int] = (1, 2)
    limit: Annotated[int, Range(min=1, max=9)] | None = None
    inner: Inner = field(default_factory=Inner)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(self.mode != "slow" or self.limit is not None, "limit", "required when mode is slow")


def _error(tp: Any, value: Any, key: str = "blk", **kw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse(tp, value, key, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_parses_and_coerces() -> None:
    block = parse(Block, {"mode": "fast", "scale": 1, "pair": [3, 4], "inner": {"names": "x"}, "extra": None}, "blk")
    assert block == Block(mode="fast", scale=1.0, pair=(3, 4), inner=Inner(names=("x",)), extra={})
    assert isinstance(block.scale, float)
    assert parse(float, "2e-4", "lr") == 2e-4  # YAML 1.1 reads 2e-4 as a string


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"mode": "fast", "scal": 1}, "blk.scal: unknown key; did you mean blk.scale?"),
        ({"mode": "fast", "zzz": 1}, "blk.zzz: unknown key (known: mode, scale, pair, limit, inner, extra)"),
        ({}, "blk.mode: required key is missing"),
        ({"mode": "medium"}, "blk.mode: must be one of fast, slow (got 'medium')"),
        ({"mode": "fast", "scale": 2}, "blk.scale: must be in [0, 1] (got 2)"),
        ({"mode": "fast", "scale": True}, "blk.scale: expected float (got True)"),
        ({"mode": "fast", "pair": [1]}, "blk.pair: expected 2 values (got 1)"),
        ({"mode": "fast", "pair": [1, "b"]}, "blk.pair[1]: expected int (got 'b')"),
        ({"mode": "fast", "limit": 10}, "blk.limit: must be in [1, 9] (got 10)"),
        ({"mode": "fast", "limit": "x"}, "blk.limit: expected int or null (got 'x')"),
        ({"mode": "fast", "inner": {"size": 0}}, "blk.inner.size: must be >= 1 (got 0)"),
        ({"mode": "fast", "inner": 3}, "blk.inner: expected a mapping (got 3)"),
        ({"mode": "slow"}, "blk.limit: required when mode is slow"),
        ("fast", "blk: expected a mapping (got 'fast')"),
    ],
)
def test_every_mistake_is_one_line_naming_the_dotted_key(value: Any, message: str) -> None:
    assert _error(Block, value) == message


def test_base_instance_supplies_missing_keys() -> None:
    base = Inner(size=7, names=("p", "q"))
    assert parse(Inner, {"names": ["r"]}, "model.config", base=base) == Inner(size=7, names=("r",))
    assert _error(Inner, {"sise": 1}, "model.config", base=base).startswith("model.config.sise: unknown key")


def test_signature_schema_for_constructor_options() -> None:
    def make(weight: NonNegativeFloat = 1.0, steps: int = 2, anything=None) -> None: ...

    assert parse_kwargs(make, {"weight": 2, "anything": [1]}, "objective.options") == {"weight": 2.0, "anything": [1]}
    with pytest.raises(ConfigError, match=r"^objective.options.weight: must be >= 0 \(got -1.0\)$"):
        parse_kwargs(make, {"weight": -1.0}, "objective.options")
    with pytest.raises(
        ConfigError, match=r"^objective.options.stepz: unknown key; did you mean objective.options.steps"
    ):
        parse_kwargs(make, {"stepz": 1}, "objective.options")

    def open_ended(weight: float = 1.0, **rest: Any) -> None: ...

    assert parse_kwargs(open_ended, {"other": 1}, "o") == {"other": 1}
