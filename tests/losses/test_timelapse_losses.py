"""Tests for the time-lapse losses (Cho et al. 2020, eqs. 2-7) on inputs with known values."""

from __future__ import annotations

import math

import pytest
import torch

from derain.losses.timelapse import (
    background_consistency_loss,
    cross_frame_loss,
    directional_gradient_loss,
    gamma_schedule,
    gradient_orientation,
    recomposition_loss,
)


def test_background_consistency_is_mean_l1() -> None:
    b_m = torch.zeros(2, 3, 4, 4)
    b_n = torch.zeros(2, 3, 4, 4)
    b_n[0] = 0.5  # half of the elements differ by 0.5
    assert background_consistency_loss(b_m, b_n).item() == pytest.approx(0.25)
    assert background_consistency_loss(b_m, b_m).item() == 0.0


def test_cross_frame_loss_is_mean_l1() -> None:
    assert cross_frame_loss(torch.full((1, 3, 2, 2), 0.9), torch.full((1, 3, 2, 2), 0.6)).item() == pytest.approx(0.3)


def test_recomposition_loss_measures_deviation_from_rain_model() -> None:
    inputs = torch.full((1, 3, 2, 2), 0.5)
    assert recomposition_loss(inputs, torch.full_like(inputs, 0.3), torch.full_like(inputs, 0.2)).item() == 0.0
    assert recomposition_loss(inputs, torch.full_like(inputs, 0.3), torch.full_like(inputs, 0.1)).item() == (
        pytest.approx(0.1)
    )
    rain = torch.full_like(inputs, 0.8)  # clipping: B = clamp(0.5 - 0.8) = 0 -> |0.5 - (0 + 0.8)| = 0.3
    assert recomposition_loss(inputs, (inputs - rain).clamp(0, 1), rain).item() == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("progress", "expected"),
    [(0.0, 0.1), (0.15, (0.1 + 1e-4) / 2), (0.3, 1e-4), (0.7, 1e-4), (1.0, 1e-4), (-1.0, 0.1)],
)
def test_gamma_schedule(progress: float, expected: float) -> None:
    assert gamma_schedule(progress) == pytest.approx(expected)


def test_gamma_schedule_custom_and_zero_fraction() -> None:
    assert gamma_schedule(0.25, start=1.0, end=0.0, fraction=0.5) == pytest.approx(0.5)
    assert gamma_schedule(0.0, fraction=0.0) == 1e-4


def test_orientation_of_ramps_and_flat_regions() -> None:
    x_ramp = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 3, 5, 6) * 0.1
    theta, valid = gradient_orientation(x_ramp)
    assert valid.shape == (1, 1, 5, 6) and valid.all()
    torch.testing.assert_close(theta, torch.zeros_like(theta))
    theta, _ = gradient_orientation(x_ramp.transpose(-1, -2))
    torch.testing.assert_close(theta, torch.full_like(theta, math.pi / 2))
    theta, _ = gradient_orientation(-x_ramp)
    torch.testing.assert_close(theta.abs(), torch.full_like(theta, math.pi))


def test_flat_rain_has_no_orientation_and_finite_gradient() -> None:
    rain = torch.zeros(1, 3, 4, 4, requires_grad=True)
    theta, valid = gradient_orientation(rain)
    assert valid.sum() == 0
    theta.sum().backward()
    assert torch.isfinite(rain.grad).all()


def test_directional_loss_known_values() -> None:
    centres = torch.tensor([0.0, math.pi / 2])
    on_centre = torch.zeros(1, 1, 2, 2)
    one_hot = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    valid = torch.ones(1, 1, 2, 2)
    assert directional_gradient_loss(on_centre, one_hot, centres, valid).item() == 0.0
    # 0.3 rad from centre 0, pi/2 - 0.3 from the other; half/half membership.
    theta = torch.full((1, 1, 2, 2), 0.3)
    half = torch.full((1, 2, 2, 2), 0.5)
    assert directional_gradient_loss(theta, half, centres, valid).item() == pytest.approx(math.pi / 4)
    # Flat (invalid) pixels count zero.
    valid[..., 0, :] = 0
    assert directional_gradient_loss(theta, half, centres, valid).item() == pytest.approx(math.pi / 8)


def test_directional_distance_wraps_around_pi() -> None:
    theta = torch.full((1, 1, 1, 1), math.pi - 0.1)
    centres = torch.tensor([-math.pi + 0.1])
    loss = directional_gradient_loss(theta, torch.ones(1, 1, 1, 1), centres, torch.ones(1, 1, 1, 1))
    assert loss.item() == pytest.approx(0.2, abs=1e-6)
