"""php losses (paper 004, eqs. 3-5) on crafted inputs, and the low-pass target."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from derain.losses.php import (
    IGNORE_LABEL,
    charbonnier_loss,
    colour_loss,
    gaussian_lowpass,
    gaussian_sigma,
    segmentation_loss,
)


def test_charbonnier_is_smooth_l1():
    x = torch.zeros(1, 3, 4, 4)
    assert float(charbonnier_loss(x, x, eps=1e-3)) == pytest.approx(1e-3)  # perfect prediction costs eps
    assert float(charbonnier_loss(x, x + 0.5, eps=1e-3)) == pytest.approx(math.sqrt(0.25 + 1e-6))
    y = torch.zeros(1, 1, 1, 2, requires_grad=True)
    charbonnier_loss(y, torch.zeros_like(y)).backward()
    assert torch.isfinite(y.grad).all()  # no 0/0 at zero error, unlike sqrt(x^2)


def test_balanced_charbonnier_keeps_the_value_and_weighs_images_by_their_own_loss():
    """Errors of 0.5 and 0.05: alike per pixel in the plain mean, ten times more pull on the small one balanced."""
    target = torch.zeros(2, 3, 4, 4)
    grads = {}
    for balanced in (False, True):
        x = torch.stack([torch.full((3, 4, 4), 0.5), torch.full((3, 4, 4), 0.05)]).requires_grad_()
        loss = charbonnier_loss(x, target, eps=1e-6, balanced=balanced)
        assert float(loss) == pytest.approx(0.275, rel=1e-5)
        loss.backward()
        grads[balanced] = x.grad.abs().flatten(1).mean(dim=1)
    assert float(grads[False][1] / grads[False][0]) == pytest.approx(1.0, rel=1e-4)
    assert float(grads[True][1] / grads[True][0]) == pytest.approx(10.0, rel=1e-4)
    assert float(grads[True][0]) == pytest.approx(float(grads[False][0]) * 0.275 / 0.5, rel=1e-4)


def test_lowpass_matches_opencv_and_keeps_constants():
    rng = np.random.default_rng(0)
    img = rng.random((20, 24, 3)).astype(np.float32)
    for k in (3, 5, 9):
        ref = cv2.GaussianBlur(img, (k, k), gaussian_sigma(k), borderType=cv2.BORDER_REFLECT_101)
        ours = gaussian_lowpass(torch.from_numpy(img).permute(2, 0, 1)[None], k)[0].permute(1, 2, 0).numpy()
        assert np.abs(ours - ref).max() < 1e-5, k
    assert gaussian_sigma(5) == pytest.approx(1.1)
    flat = torch.full((2, 3, 7, 9), 0.3)
    assert torch.allclose(gaussian_lowpass(flat), flat)
    with pytest.raises(ValueError, match="odd"):
        gaussian_lowpass(flat, 4)


def test_lowpass_removes_detail_not_structure():
    stripes = torch.zeros(1, 1, 32, 32)
    stripes[..., ::2] = 1.0  # one-pixel detail
    edge = torch.zeros(1, 1, 32, 32)
    edge[..., 16:] = 1.0  # object boundary
    assert gaussian_lowpass(stripes).std() < 0.1 * stripes.std()
    assert gaussian_lowpass(edge)[..., 0, 0] < 0.01 and gaussian_lowpass(edge)[..., 0, -1] > 0.99


def test_colour_loss_ignores_magnitude_penalises_hue():
    target = torch.rand(2, 3, 8, 8) + 0.1
    assert float(colour_loss(0.5 * target, target)) == pytest.approx(0.0, abs=1e-6)
    swapped = target[:, [2, 1, 0]]
    assert float(colour_loss(swapped, target)) > 0.01
    red = torch.zeros(1, 3, 1, 1)
    red[:, 0] = 1
    green = torch.zeros(1, 3, 1, 1)
    green[:, 1] = 1
    assert float(colour_loss(red, green)) == pytest.approx(1.0)  # orthogonal colours


def test_segmentation_loss_ignores_unlabelled_pixels():
    logits = torch.zeros(1, 3, 2, 2)
    logits[:, 1] = 10.0  # confident class 1 everywhere
    labels = torch.tensor([[[1, 1], [IGNORE_LABEL, IGNORE_LABEL]]])
    assert float(segmentation_loss(logits, labels)) < 1e-3
    labels = torch.tensor([[[0, 0], [IGNORE_LABEL, IGNORE_LABEL]]])
    assert float(segmentation_loss(logits, labels)) == pytest.approx(10.0, abs=1e-3)
    assert float(segmentation_loss(logits, torch.full((1, 2, 2), IGNORE_LABEL))) == 0.0
