"""Tests of the ``memory`` objective: terms, ablation switches, the no-ground-truth guarantee, recipe."""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import pytest
import torch

from derain.errors import ConfigError
from derain.models.memory import MemoryConfig, MemoryDerainer
from derain.train.config import load_config
from derain.train.objectives import OBJECTIVES, build_objective
from derain.train.objectives.memory import MemoryCollapseWarning

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def model() -> MemoryDerainer:
    torch.manual_seed(0)
    return MemoryDerainer(MemoryConfig(channels=8, items=4))


@pytest.fixture
def frames() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(2, 2, 3, 24, 24)


def test_all_four_terms_and_gradients_reach_every_parameter(model, frames) -> None:
    loss, terms = OBJECTIVES.get("memory")()(model, {"frames": frames}, 0.0)
    assert set(terms) == {"L_b", "L_s", "L_c", "L_w", "mem_cos", "mem_used", "read_entropy"}
    assert 0.0 < terms["read_entropy"] <= math.log(4) + 1e-6
    loss.backward()
    assert [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0] == []


def test_clean_key_is_never_read(model, frames) -> None:
    objective = OBJECTIVES.get("memory")()
    twin = copy.deepcopy(model)  # the memory updates in training mode: compare two identical copies
    loss, terms = objective(model, {"frames": frames}, 0.5)
    poisoned = {"frames": frames, "clean": torch.full_like(frames[:, 0], float("nan")), "rain": frames[:, 0] * 0}
    loss2, terms2 = objective(twin, poisoned, 0.5)
    assert torch.isfinite(loss2) and float(loss2.detach()) == float(loss.detach()) and terms2 == terms


def test_zero_weight_drops_a_term_and_all_zero_is_an_error(model, frames) -> None:
    _, terms = OBJECTIVES.get("memory")(lambda_w=0.0, lambda_c=0.0)(model, {"frames": frames}, 0.0)
    assert {k for k in terms if k.startswith("L_")} == {"L_b", "L_s"}
    with pytest.raises(ConfigError, match="every loss weight is 0"):
        OBJECTIVES.get("memory")(lambda_b=0, lambda_s=0, lambda_c=0, lambda_w=0)(model, {"frames": frames}, 0.0)
    with pytest.raises(ConfigError, match=r"^objective.options.lambda_b: must be >= 0 \(got -1\)"):
        build_objective("memory", {"lambda_b": -1})


def test_single_branch_ablation_uses_the_frames_time_average(frames) -> None:
    torch.manual_seed(0)
    model = MemoryDerainer(MemoryConfig(channels=8, items=4, init_from_queries=False))
    before = copy.deepcopy(model).eval()  # the items the objective's forward reads with
    loss, terms = OBJECTIVES.get("memory")(siamese=False)(model, {"frames": frames}, 0.0)
    assert set(terms) == {"L_l1"}
    with torch.no_grad():
        expected = (before(frames[:, 0]).background - frames.mean(dim=1)).abs().mean()
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-6)


def test_bad_frames_shape_raises(model) -> None:
    with pytest.raises(ValueError, match="T>=2"):
        OBJECTIVES.get("memory")()(model, {"frames": torch.rand(2, 1, 3, 16, 16)}, 0.0)


def test_recipe_parses_and_builds(tmp_path) -> None:
    config = load_config(REPO / "configs" / "memory.yaml", ["val=null", f"output.dir={tmp_path}"])
    assert config.model.name == "memory" and config.data.kind == "synthetic_timelapse"
    objective = OBJECTIVES.get(config.objective.name)(**config.objective.options)
    assert objective.kind == "timelapse"
    assert config.output.export.name == "memory"


def test_collapsed_items_are_logged_and_warned_once(model, frames) -> None:
    objective = OBJECTIVES.get("memory")()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, healthy = objective(model, {"frames": frames}, 0.0)
    assert healthy["mem_cos"] < 0.99
    assert not [w for w in caught if issubclass(w.category, MemoryCollapseWarning)]
    model.memory.items.copy_(torch.nn.functional.normalize(torch.ones(4, 8), dim=1))  # one vector, 4 times
    model.eval()  # freeze the items (in training the fixed update would start to separate them)
    with pytest.warns(MemoryCollapseWarning, match="collapsed"):
        _, collapsed = objective(model, {"frames": frames}, 0.0)
    assert collapsed["mem_cos"] > 0.99
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        objective(model, {"frames": frames}, 0.0)
    assert not [w for w in caught if issubclass(w.category, MemoryCollapseWarning)]  # once per run


def test_a_memory_with_one_live_item_is_warned(frames) -> None:
    torch.manual_seed(0)
    model = MemoryDerainer(MemoryConfig(channels=8, items=4, signed_query=False)).eval()  # ReLU'd queries
    items = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    items[0] = torch.nn.functional.normalize(torch.ones(8), dim=0)  # nearest to every non-negative query
    items[1:] = -items[1:].abs()  # the others point away from the (ReLU) queries: dead
    model.memory.items.copy_(items)
    with pytest.warns(MemoryCollapseWarning, match="only 1 of 4"):
        _, terms = OBJECTIVES.get("memory")()(model, {"frames": frames}, 0.0)
    assert terms["mem_used"] == 1.0 and terms["mem_cos"] < 0.99
