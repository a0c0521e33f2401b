"""Tests of the ``memory`` model: memory read/update math, frozen items at inference, weights I/O."""

from __future__ import annotations

import math

import pytest
import torch

from derain.checkpoint import build_from_file, save_weights
from derain.models import build_model
from derain.models.memory import (
    MemoryConfig,
    MemoryDerainer,
    RainMemory,
    item_similarity,
    memory_read,
    memory_update,
    read_entropy,
)


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


def test_update_adds_only_the_queries_each_item_is_nearest_to() -> None:
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # q1 is nearest to item 0; q2 (cosines 0.6 / 0.8) and q3 are nearest to item 1
    query = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]).T.reshape(1, 2, 1, 3)
    new = memory_update(query, items)
    # item 0 adds q1 only, with weight beta / max beta = 1: it stays (1, 0)
    assert torch.allclose(new[0], torch.tensor([1.0, 0.0]))
    # item 1: beta over positions is (1, e^0.8, e) / Z; q2 gets e^0.8 / e, q3 gets 1
    w2 = math.exp(-0.2)
    expected1 = torch.tensor([0.6 * w2, 1.0 + 0.8 * w2 + 1.0])
    assert torch.allclose(new[1], expected1 / expected1.norm())


def _shared_update(query: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """The rule of eq. 6 as printed (every item adds the beta-weighted sum of ALL queries): issue #9's bug."""
    q = torch.nn.functional.normalize(query, dim=1).permute(0, 2, 3, 1).reshape(-1, query.shape[1])
    beta = (torch.nn.functional.normalize(items, dim=1) @ q.T).softmax(dim=1)
    return torch.nn.functional.normalize(items + beta @ q, dim=1)


def _clustered_queries(gen: torch.Generator, centres: torch.Tensor, per_cluster: int) -> torch.Tensor:
    """``(1, C, 1, K)`` queries in tight clusters around ``centres`` ``(n, C)``."""
    pts = centres.repeat_interleave(per_cluster, dim=0)
    pts = pts + 0.1 * torch.randn(pts.shape, generator=gen)
    return pts.T.reshape(1, centres.shape[1], 1, -1)


@pytest.mark.parametrize(("rule", "collapses"), [(memory_update, False), (_shared_update, True)])
def test_distinct_query_clusters_keep_items_distinct(rule, collapses: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(4, 16, generator=gen), dim=1)
    items = torch.nn.functional.normalize(torch.randn(8, 16, generator=gen), dim=1)
    for _ in range(300):
        items = rule(_clustered_queries(gen, centres, 64), items)
    if collapses:
        assert item_similarity(items) > 0.99
    else:
        assert item_similarity(items) < 0.9
        # every cluster is some item's nearest neighbour: the memory covers the four query types
        nearest = (centres @ items.T).argmax(dim=1)
        assert len(set(nearest.tolist())) == 4


def test_diversity_diagnostics() -> None:
    same = torch.ones(5, 3)
    assert item_similarity(same) == pytest.approx(1.0)
    assert item_similarity(torch.eye(4)) == pytest.approx(0.0)
    uniform = torch.full((2, 4, 3, 3), 0.25)
    assert read_entropy(uniform) == pytest.approx(math.log(4))
    peaked = torch.zeros(2, 4, 3, 3)
    peaked[:, 1] = 1.0
    assert read_entropy(peaked) == pytest.approx(0.0, abs=1e-6)


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
    assert out.read_weights.shape == (2, 5, h, w)
    assert torch.allclose(out.read_weights.sum(dim=1), torch.ones(2, h, w))


def test_without_memory_has_same_parameters_and_no_read() -> None:
    plain, full = _small(use_memory=False), _small()
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in full.parameters())
    out = plain(torch.rand(1, 3, 16, 16))
    assert out.read_weights is None and out.query.shape == (1, 8, 2, 2)


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
