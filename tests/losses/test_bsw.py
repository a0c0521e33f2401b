"""Tests of the background selective whitening loss (eqs. 10-13)."""

from __future__ import annotations

import pytest
import torch

from derain.losses.bsw import BSWLoss, bsw_mask, feature_covariance, kmeans_1d


def test_covariance_of_instance_normalised_features() -> None:
    q = torch.randn(2, 3, 4, 5)
    cov = feature_covariance(q)
    f = q.reshape(2, 3, 20)
    f = (f - f.mean(-1, keepdim=True)) / torch.sqrt(f.var(-1, unbiased=False, keepdim=True) + 1e-5)
    assert torch.allclose(cov, f @ f.transpose(1, 2) / 19, atol=1e-5)
    assert torch.allclose(cov, cov.transpose(1, 2))


def test_kmeans_finds_four_clear_groups() -> None:
    values = torch.tensor([[0.0, 0.1, 10.0, 10.2, 20.0, 20.4, 30.0, 30.6, 0.2, 10.1]])
    centres = kmeans_1d(values, 4)
    assert centres[0].tolist() == pytest.approx([0.1, 10.1, 20.2, 30.3], abs=1e-4)


def _crafted_pair(c: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Covariances (C = 8) whose 28 upper-triangle variances sit at four levels; the low two are background."""
    rows, cols = torch.triu_indices(c, c, offset=1)
    levels = torch.tensor([0.0, 0.01, 0.5, 1.0])  # half-differences; variance = level**2
    level = torch.tensor([0] * 4 + [1] * 4 + [2] * 10 + [3] * 10)  # unequal counts: not a quantile split
    cov_a = torch.eye(c).repeat(1, 1, 1)
    cov_b = cov_a.clone()
    cov_a[0, rows, cols] = cov_a[0, cols, rows] = 0.3
    cov_b[0, rows, cols] = cov_b[0, cols, rows] = 0.3 - 2 * levels[level]
    expected = torch.zeros(1, c, c)
    low = (level < 2).float()
    expected[0, rows, cols] = expected[0, cols, rows] = low
    return cov_a, cov_b, expected


def test_mask_selects_the_low_variance_groups() -> None:
    cov_a, cov_b, expected = _crafted_pair()
    mask = bsw_mask(cov_a, cov_b)
    assert torch.equal(mask, expected)
    assert torch.equal(mask, mask.transpose(1, 2)) and mask.diagonal(dim1=1, dim2=2).sum() == 0
    # l = 3 of h = 4 also takes the third level
    assert bsw_mask(cov_a, cov_b, low=3).sum() > mask.sum()


def test_mask_rejects_bad_groups() -> None:
    cov = torch.eye(3)[None]
    with pytest.raises(ValueError, match="low"):
        bsw_mask(cov, cov, low=4, groups=4)


def test_identical_frames_whiten_every_off_diagonal_element() -> None:
    q = torch.randn(2, 4, 6, 6, requires_grad=True)
    loss = BSWLoss()(q, q)
    cov = feature_covariance(q.detach())
    off = ~torch.eye(4, dtype=torch.bool)
    assert float(loss.detach()) == pytest.approx(float(cov[:, off].abs().mean()), rel=1e-5)
    loss.backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
