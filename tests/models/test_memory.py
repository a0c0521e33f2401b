"""Tests of the ``memory`` model: memory read/update math, frozen items at inference, weights I/O."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import save_file

from derain.checkpoint import build_from_file, bundled_weights, load_weights_file, save_weights
from derain.models import build_model
from derain.models.memory import (
    MemoryConfig,
    MemoryDerainer,
    RainMemory,
    init_items,
    item_similarity,
    memory_read,
    memory_update,
    read_entropy,
)
from derain.train.config import ModelSection
from derain.train.warmstart import initial_model


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


def _streak_types(gen: torch.Generator, per_type: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-activation queries of four "streak types" that share their positive part and differ only
    in a negative, type-specific channel pair: ``(centres (4, 16), queries (1, 16, 1, 4 * per_type))``."""
    centres = torch.zeros(4, 16)
    centres[:, :8] = 1.0
    for j in range(4):
        centres[j, 8 + 2 * j : 10 + 2 * j] = -1.5
    pts = centres.repeat_interleave(per_type, dim=0) + 0.1 * torch.randn(4 * per_type, 16, generator=gen)
    return centres, pts.T.reshape(1, 16, 1, -1)


@pytest.mark.parametrize("init_from_queries", [True, False])
@pytest.mark.parametrize("signed", [True, False])
def test_signed_queries_keep_streak_types_on_distinct_items(signed: bool, init_from_queries: bool) -> None:
    """Issue #9's second cause: a ReLU'd query maps every type to the same vector, so one item is the
    nearest of all of them (the other items are dead, or -- initialised from such queries -- identical)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    memory = RainMemory(8, 16, init_from_queries=init_from_queries).train()
    for _ in range(200):
        centres, query = _streak_types(gen)
        memory(query if signed else torch.relu(query))
    seen = centres if signed else torch.relu(centres)
    nearest = (torch.nn.functional.normalize(seen, dim=1) @ memory.items.T).argmax(dim=1)
    if signed:
        assert len(set(nearest.tolist())) == 4  # every type has its own item
        assert item_similarity(memory.items) < 0.9
    else:
        assert len(set(nearest.tolist())) == 1


def test_model_query_is_signed_unless_legacy() -> None:
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        signed = _small().eval()(x).query
        relu = _small(signed_query=False).eval()(x).query
    assert float(signed.min()) < 0.0
    assert float(relu.min()) >= 0.0
    assert torch.equal(relu, torch.relu(signed))  # same weights (seed 0): only the last ReLU differs


def test_init_items_picks_distinct_queries() -> None:
    torch.manual_seed(0)
    query = torch.randn(2, 6, 3, 3)
    items = init_items(query, 5)
    unit = torch.nn.functional.normalize(query, dim=1).permute(0, 2, 3, 1).reshape(-1, 6)
    matches = (items @ unit.T).isclose(torch.tensor(1.0)).nonzero()[:, 1]
    assert len(set(matches.tolist())) == 5  # five different queries, each taken as is
    same = torch.ones(1, 6, 2, 2)  # one distinct direction: one pick, the rest random unit vectors
    items = init_items(same, 3)
    assert torch.allclose(items.norm(dim=1), torch.ones(3))
    assert torch.allclose(items[0], torch.nn.functional.normalize(torch.ones(6), dim=0))
    assert item_similarity(items) < 0.99


def test_items_initialise_from_the_first_training_batch_only(tmp_path) -> None:
    model = _small()
    x = torch.rand(2, 3, 24, 24)
    with torch.no_grad():
        model.eval()(x)  # inference never initialises
        assert model.memory.pending_init
        query = model.train()(x).query
    unit = torch.nn.functional.normalize(query, dim=1).permute(0, 2, 3, 1).reshape(-1, 8)
    # after the init the same forward applied one update, so each item is still near a query
    assert float((model.memory.items @ unit.T).amax(dim=1).min()) > 0.9
    assert not model.memory.pending_init
    path = save_weights(model, tmp_path / "m.safetensors", model_name="memory", config={"channels": 8, "items": 5})
    _, loaded = build_from_file(path)
    assert not loaded.memory.pending_init  # loaded items are trained items
    before = loaded.memory.items.clone()
    with torch.no_grad():
        loaded.train()(x)
    assert float((loaded.memory.items * before).sum(dim=1).min()) > 0.5  # updated, not re-drawn


def test_weights_files_record_the_query_kind_and_old_files_keep_the_relu(tmp_path) -> None:
    model = _small().eval()
    path = save_weights(model, tmp_path / "new.safetensors", model_name="memory", config={"channels": 8, "items": 5})
    assert load_weights_file(path)[1]["signed_query"] is True  # recorded even though it is the default
    # a file written before the switch existed: same tensors, metadata without the key
    old = _small(signed_query=False).eval()
    state = {k: v.contiguous() for k, v in old.state_dict().items()}
    meta = {"derain_model": "memory", "derain_config": json.dumps({"channels": 8, "items": 5})}
    save_file(state, tmp_path / "old.safetensors", metadata=meta)
    _, loaded = build_from_file(tmp_path / "old.safetensors")
    assert loaded.config.signed_query is False
    x = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x).background, old(x).background)


def test_bundled_memory_is_alive() -> None:
    """Issue #9's bar on the bundled file: signed query, distinct items, reads that differ across items."""
    _, model = build_from_file(bundled_weights("memory"))
    assert model.config.signed_query is True
    items = torch.nn.functional.normalize(model.memory.items, dim=1)
    cosine = items @ items.T
    off_diagonal = cosine[~torch.eye(len(items), dtype=torch.bool)]
    assert float(off_diagonal.mean()) < 0.9  # the collapsed file had 1.0
    torch.manual_seed(0)
    with torch.no_grad():
        reads = model.eval()(torch.rand(1, 3, 64, 64)).read_weights
    assert float(reads.max() - reads.min()) > 0.01  # the collapsed file read 0.05 everywhere


def test_fine_tuning_old_weights_keeps_their_relu_query(tmp_path) -> None:
    """``derain adapt`` on pre-switch weights: the run's config leaves the key unset, the file decides."""
    old = _small(signed_query=False)
    meta = {"derain_model": "memory", "derain_config": json.dumps({"channels": 8, "items": 5})}
    save_file({k: v.contiguous() for k, v in old.state_dict().items()}, tmp_path / "old.safetensors", metadata=meta)
    section = ModelSection(name="memory", config={"channels": 8, "items": 5}, init=str(tmp_path / "old.safetensors"))
    assert initial_model(section).config.signed_query is False
    explicit = ModelSection(name="memory", config={"channels": 8, "items": 5, "signed_query": True}, init=section.init)
    assert initial_model(explicit).config.signed_query is True  # an explicit choice wins
