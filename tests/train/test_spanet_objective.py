"""Objective spanet: the three terms, the mask, weights and the B_e ablation switch."""

from __future__ import annotations

import pytest
import torch

from derain.errors import ConfigError
from derain.losses.attention import attention_loss, rain_mask
from derain.models import build_model
from derain.train.objectives import OBJECTIVES


def _batch(mask: bool = False) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    clean = torch.rand(2, 3, 16, 16) * 0.8
    rain = clean.clone()
    rain[..., 4:6, :] += 0.2  # a horizontal band of "rain"
    batch = {"rain": rain, "clean": clean}
    if mask:
        batch["mask"] = torch.ones(2, 1, 16, 16)
    return batch


def test_rain_mask_thresholds_the_difference() -> None:
    batch = _batch()
    mask = rain_mask(batch["rain"], batch["clean"], 0.1)
    assert mask.shape == (2, 1, 16, 16)
    assert mask[..., 4:6, :].all() and mask.sum() == 2 * 2 * 16
    assert rain_mask(batch["rain"], batch["clean"], 0.3).sum() == 0
    assert attention_loss(mask, mask) == 0


def test_terms_and_gradients() -> None:
    torch.manual_seed(0)
    model = build_model("spanet", {"channels": 8})
    objective = OBJECTIVES.get("spanet")()
    loss, terms = objective(model, _batch(), 0.0)
    assert set(terms) == {"l1", "ssim", "att"}
    loss.backward()
    assert model.sam.irnn1.weight.grad is not None and model.sam.irnn1.weight.grad.abs().sum() > 0


def test_dataset_mask_wins_over_the_threshold() -> None:
    torch.manual_seed(0)
    model = build_model("spanet", {"channels": 8})
    objective = OBJECTIVES.get("spanet")(l1_weight=1.0, ssim_weight=0.0, attention_weight=1.0)
    with torch.no_grad():
        _, computed = objective(model, _batch(), 0.0)
        _, given = objective(model, _batch(mask=True), 0.0)
        att = model(_batch()["rain"]).attention[0]
    assert given["att"] == pytest.approx(float(((att - 1) ** 2).mean()), rel=1e-5)
    assert computed["att"] != pytest.approx(given["att"])


def test_attention_weight_zero_is_the_b_e_ablation() -> None:
    objective = OBJECTIVES.get("spanet")(attention_weight=0.0)
    _, terms = objective(build_model("spanet", {"channels": 8}), _batch(), 0.0)
    assert "att" not in terms


def test_bad_options() -> None:
    with pytest.raises(ConfigError):
        OBJECTIVES.get("spanet")(l1_weight=0.0, ssim_weight=0.0)
