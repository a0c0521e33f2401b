"""J4R losses (eq. 15) on crafted inputs, and the objective's weighting over a clip."""

from __future__ import annotations

import math

import pytest
import torch

from derain.losses.j4r import detect_loss, high_pass, joint_loss, rect_loss, removal_loss
from derain.models.j4r import J4RConfig, J4RDerainer
from derain.train.objectives.j4r import J4RObjective
from derain.train.objectives.video import detach_state, time_windows


def test_high_pass_removes_constants_and_keeps_an_impulse() -> None:
    flat = torch.full((1, 3, 16, 16), 0.7)
    assert high_pass(flat).abs().max() < 1e-6
    impulse = torch.zeros(1, 1, 21, 21)
    impulse[..., 10, 10] = 1.0
    e = high_pass(impulse)
    assert e.sum().abs() < 1e-5  # zero DC gain
    assert 0.8 < float(e[..., 10, 10]) < 1.0  # the centre keeps 1 - G(0) of the spike
    assert float(e[..., 10, 12]) < 0  # neighbours go negative
    assert high_pass(torch.rand(1, 1, 3, 3)).shape == (1, 1, 3, 3)  # tiny inputs pad by replication


def test_detect_loss_is_per_pixel_cross_entropy() -> None:
    logits = torch.zeros(1, 1, 1, 2)
    logits[0, 0, 0, 0] = 2.0  # pixel 0 says "occluded" by a logit margin of 2, pixel 1 is undecided
    alpha = torch.tensor([[[[1.0, 0.0]]]])
    expected = 0.5 * (math.log(1 + math.exp(2.0)) - 2.0) + 0.5 * math.log(2.0)
    assert float(detect_loss(logits, alpha)) == pytest.approx(expected, rel=1e-6)


def test_mse_terms() -> None:
    a, b = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5)
    assert float(joint_loss(a, b)) == pytest.approx(0.25)
    assert float(removal_loss(a, b)) == pytest.approx(0.25)
    clean = torch.rand(1, 3, 12, 12)
    assert float(rect_loss(high_pass(clean), clean)) == 0.0
    assert float(rect_loss(torch.zeros_like(clean), clean)) == pytest.approx(float(high_pass(clean).pow(2).mean()))


def _clip(b: int = 1, t: int = 3, h: int = 8, w: int = 8) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(b, t, 3, h, w, generator=g)
    streaks = 0.2 * torch.rand(b, t, 3, h, w, generator=g)
    return {
        "rain": (clean + streaks).clamp(0, 1),
        "clean": clean,
        "streaks": streaks,
        "alpha": torch.zeros(b, t, 1, h, w),
    }


def test_objective_weights_and_gradients() -> None:
    torch.manual_seed(0)
    model = J4RDerainer(J4RConfig(channels=4, blocks=1)).train()
    loss, terms, state = J4RObjective()(model, _clip(), 0.0)
    assert set(terms) == {"l_joint", "l_detect", "l_rect", "l_removal"}
    weights = {"l_joint": 1.0, "l_detect": 1e-3, "l_rect": 1e-4, "l_removal": 1e-4}
    assert float(loss.detach()) == pytest.approx(sum(weights[k] * v for k, v in terms.items()), rel=1e-5)
    assert state[0].shape == (1, 4, 8, 8)  # handed back for the next window
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_objective_on_the_luminance_model_scores_targets_in_y() -> None:
    model = J4RDerainer(J4RConfig(channels=4, blocks=1, luminance=True)).train()
    loss, terms, _ = J4RObjective()(model, _clip(), 0.0)
    assert torch.isfinite(loss) and terms["l_removal"] > 0


def test_windows_carry_the_state_like_one_pass() -> None:
    """Two windows with the state handed on give the whole clip's per-frame terms (only the gradient is cut)."""
    torch.manual_seed(0)
    model = J4RDerainer(J4RConfig(channels=4, blocks=1)).train()
    clip = _clip(t=4)
    _, whole, _ = J4RObjective()(model, clip, 0.0)
    state, parts = None, []
    for window in time_windows(clip, 2):
        _, terms, state = J4RObjective()(model, window, 0.0, detach_state(state))
        parts.append(terms)
    for k, v in whole.items():
        assert v == pytest.approx((parts[0][k] + parts[1][k]) / 2, rel=1e-5)


def test_objective_names_missing_keys() -> None:
    model = J4RDerainer(J4RConfig(channels=4, blocks=1))
    with pytest.raises(ValueError, match="alpha"):
        J4RObjective()(model, {k: v for k, v in _clip().items() if k != "alpha"}, 0.0)
