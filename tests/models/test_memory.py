"""Tests of the ``memory`` model: memory read/update math, frozen items at inference, weights I/O."""

from __future__ import annotations

import math

import pytest
import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model
from derain.models.memory import MemoryConfig, MemoryDerainer, RainMemory, memory_read, memory_update


def _small(**kw: object) -> MemoryDerainer:
    torch.manual_seed(0)
    return MemoryDerainer(MemoryConfig(channels=8, items=5, **kw))


def test_parameter_count_matches_paper() -> None:
    model = build_model("memory")
    assert sum(p.numel() for p in model.parameters()) == 815_683  # the paper's "0.81 M"
    assert model.memory.items.shape == (20, 64)
    assert "memory.items" in model.state_dict()  # a buffer: saved with the weights, not trained


def test_read_is_softmax_over_items_of_cosine_similarity() -> None:
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    query = torch.tensor([3.0, 0.0]).view(1, 2, 1, 1)  # cosine 1 with item 0, 0 with item 1
    retrieved, weights = memory_read(query, items)
    e = math.e
    assert weights.flatten().tolist() == pytest.approx([e / (e + 1), 1 / (e + 1)])
    assert retrieved.flatten().tolist() == pytest.approx([e / (e + 1), 1 / (e + 1)])


def test_update_is_softmax_over_positions_then_normalise() -> None:
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    query = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]).T.reshape(1, 2, 1, 3)  # q1 = q3 = item 0's direction
    new = memory_update(query, items)
    e = math.e
    # item 0: cosines (1, 0, 1) -> beta = (e, 1, e) / (2e + 1) over the three positions
    expected0 = torch.tensor([1 + 2 * e / (2 * e + 1), 1 / (2 * e + 1)])
    # item 1: cosines (0, 1, 0) -> beta = (1, e, 1) / (e + 2)
    expected1 = torch.tensor([2 / (e + 2), 1 + e / (e + 2)])
    assert torch.allclose(new[0], expected0 / expected0.norm())
    assert torch.allclose(new[1], expected1 / expected1.norm())


def test_items_update_in_training_and_freeze_in_eval() -> None:
    memory = RainMemory(4, 3)
    before = memory.items.clone()
    memory.eval()
    memory(torch.randn(2, 3, 4, 4))
    assert torch.equal(memory.items, before)
    memory.train()
    memory(torch.randn(2, 3, 4, 4, requires_grad=True))
    assert not torch.equal(memory.items, before)
    assert not memory.items.requires_grad
    assert torch.allclose(memory.items.norm(dim=1), torch.ones(4))


@pytest.mark.parametrize("size", [(37, 51), (5, 7), (64, 48)])
def test_any_size_keeps_shape_and_range(size: tuple[int, int]) -> None:
    model = _small().eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        out = model(x)
    assert out.background.shape == x.shape and out.rain.shape == x.shape
    assert float(out.background.min()) >= 0.0 and float(out.background.max()) <= 1.0
    h, w = (-(-s // 8) for s in size)
    assert out.extras["read_weights"].shape == (2, 5, h, w)
    assert torch.allclose(out.extras["read_weights"].sum(dim=1), torch.ones(2, h, w))


def test_without_memory_has_same_parameters_and_no_read() -> None:
    plain, full = _small(use_memory=False), _small()
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in full.parameters())
    out = plain(torch.rand(1, 3, 16, 16))
    assert "read_weights" not in out.extras and out.extras["query"].shape == (1, 8, 2, 2)


def test_gradients_reach_every_parameter() -> None:
    model = _small()
    out = model(torch.rand(2, 3, 24, 24))
    (out.rain.square().mean() + out.background.mean()).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_weights_round_trip_keeps_the_items(tmp_path) -> None:
    model = _small()
    model(torch.rand(1, 3, 16, 16))  # a training-mode call moves the items off their init
    path = save_weights(model, tmp_path / "m.safetensors", model_name="memory", config={"channels": 8, "items": 5})
    name, loaded = build_from_file(path)
    assert name == "memory"
    assert torch.equal(loaded.memory.items, model.memory.items)
    model.eval(), loaded.eval()
    x = torch.rand(1, 3, 20, 20)
    with torch.no_grad():
        assert torch.equal(model(x).background, loaded(x).background)
