"""Tests for the ``timelapse`` objective: loss assembly, gradients and the no-ground-truth guarantee."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import smooth_image
from derain.data.datasets import build_dataset
from derain.losses.timelapse import gamma_schedule
from derain.models.timelapse import TimelapseConfig, TimelapseNet
from derain.train.objectives import OBJECTIVES
from derain.train.objectives.timelapse import TimelapseObjective

TINY = TimelapseConfig(widths=(4, 4, 6), depths=(1, 1, 2), kernels=(1, 3, 5))


@pytest.fixture
def model() -> TimelapseNet:
    torch.manual_seed(0)
    return TimelapseNet(TINY)


def _frames(batch: int = 2, size: int = 24) -> torch.Tensor:
    torch.manual_seed(1)
    background = torch.rand(batch, 1, 3, size, size) * 0.6
    streaks = (torch.rand(batch, 2, 3, size, size) > 0.9).float() * 0.4
    return background + streaks


def test_registered_as_timelapse_kind() -> None:
    assert OBJECTIVES.get("timelapse") is TimelapseObjective
    assert TimelapseObjective.kind == "timelapse"


def test_total_is_weighted_sum_of_terms(model: TimelapseNet) -> None:
    objective = TimelapseObjective()
    loss, terms = objective(model, {"frames": _frames()}, progress=0.1)
    gamma = gamma_schedule(0.1)
    assert terms["gamma"] == pytest.approx(gamma)
    expected = terms["l_b"] + 0.1 * gamma * terms["l_s"] + 0.01 * terms["l_v"] + 0.001 * terms["l_r"]
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_gradients_reach_every_trained_parameter(model: TimelapseNet) -> None:
    objective = TimelapseObjective()
    loss, _ = objective(model, {"frames": _frames()}, progress=0.0)
    loss.backward()
    params = [*model.named_parameters(), *(("objective." + n, p) for n, p in objective.named_parameters())]
    assert any(n.startswith("objective.directional") for n, _ in params)
    missing = [n for n, p in params if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0]
    assert missing == []


def test_switched_off_terms_are_not_computed(model: TimelapseNet) -> None:
    objective = TimelapseObjective(lambda_s=0.0, lambda_v=0.0)
    loss, terms = objective(model, {"frames": _frames()}, progress=0.5)
    assert set(terms) == {"l_b", "l_r", "gamma"}
    loss.backward()
    assert all(p.grad is None for p in objective.directional.parameters())


def test_identical_frames_have_no_background_inconsistency(model: TimelapseNet) -> None:
    frames = _frames()[:, :1].expand(-1, 2, -1, -1, -1)
    _, terms = TimelapseObjective()(model, {"frames": frames}, progress=0.0)
    assert terms["l_b"] == 0.0


def test_poisoned_clean_image_never_reaches_the_loss(model: TimelapseNet) -> None:
    frames = _frames()
    objective = TimelapseObjective()
    clean_loss, clean_terms = objective(model, {"frames": frames}, progress=0.2)
    poison = torch.full((frames.shape[0], 3, *frames.shape[-2:]), float("nan"))
    loss, terms = objective(model, {"frames": frames, "clean": poison, "background": poison}, progress=0.2)
    assert torch.isfinite(loss)
    assert loss.item() == clean_loss.item()
    assert terms == clean_terms


def test_synthetic_timelapse_items_carry_no_clean_image(tmp_path: Path) -> None:
    for i in range(2):
        Image.fromarray((smooth_image(48, 48, seed=i) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    dataset = build_dataset("synthetic_timelapse", clean_dir=str(tmp_path), crop=32, length=3, frames=3, seed=0)
    for index in range(len(dataset)):
        item = dataset[index]
        assert set(item) == {"frames"}
        assert item["frames"].shape == (2, 3, 32, 32)
        assert not torch.equal(item["frames"][0], item["frames"][1])


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 1, 3, 8, 8)])
def test_bad_frames_shape_raises(model: TimelapseNet, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="frames"):
        TimelapseObjective()(model, {"frames": torch.rand(shape)}, progress=0.0)
