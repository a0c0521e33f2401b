"""derain.eval.metrics against scikit-image, hand-computed values and the torch twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from conftest import smooth_image
from derain.eval import metrics

SKIMAGE_SSIM = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


def eight_bit(img: np.ndarray) -> np.ndarray:
    return (np.round(img * 255) / 255).astype(np.float32)


@pytest.fixture
def pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A clean 8-bit image and a streaky, noisy 8-bit version of it."""
    clean = eight_bit(smooth_image(40, 52, seed=1))
    streaks = (rng.random((40, 52, 1)) > 0.9) * 0.3 + rng.normal(0, 0.03, (40, 52, 3))
    return eight_bit(np.clip(clean + streaks, 0, 1)), clean


def to_tensor(*imgs: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in imgs]).to(dtype)


def matlab_y(img: np.ndarray) -> np.ndarray:
    """Independent Y: the rgb2ycbcr formula written out per channel."""
    r, g, b = (img[..., c].astype(np.float64) for c in range(3))
    return 16 + 65.481 * r + 128.553 * g + 24.966 * b


def test_rgb_to_y_range() -> None:
    black_white = np.array([[[0, 0, 0], [1, 1, 1]]], dtype=np.float32)
    np.testing.assert_allclose(metrics.rgb_to_y(black_white), [[16, 235]])
    np.testing.assert_allclose(metrics.rgb_to_y_pt(to_tensor(black_white)).flatten(), [16, 235])


def test_psnr_hand_computed_constant_images() -> None:
    target = np.full((16, 16, 3), 0.5, dtype=np.float32)
    pred = target + np.float32(0.1)
    assert metrics.psnr(pred, target, y_channel=False) == pytest.approx(20.0, abs=1e-5)  # MSE 0.01, range 1
    y_error = 0.1 * (65.481 + 128.553 + 24.966)  # every Y value off by 21.9
    assert metrics.psnr(pred, target) == pytest.approx(20 * math.log10(255 / y_error), abs=1e-5)
    # The pooled form (masks, runs): the same formula, inf for no error.
    assert metrics.psnr_from_mse(y_error**2) == pytest.approx(metrics.psnr(pred, target), abs=1e-5)
    assert metrics.psnr_from_mse(0.01, data_range=1.0) == pytest.approx(20.0)
    assert metrics.psnr_from_mse(0.0) == math.inf


@pytest.mark.parametrize("crop_border", [0, 4])
def test_numpy_matches_skimage(pair: tuple[np.ndarray, np.ndarray], crop_border: int) -> None:
    pred, clean = pair
    c = slice(crop_border, -crop_border or None)
    py, cy = matlab_y(pred)[c, c], matlab_y(clean)[c, c]
    prgb, crgb = pred[c, c].astype(np.float64), clean[c, c].astype(np.float64)
    opts = {"crop_border": crop_border}
    assert metrics.psnr(pred, clean, **opts) == pytest.approx(peak_signal_noise_ratio(cy, py, data_range=255), abs=1e-6)
    assert metrics.ssim(pred, clean, **opts) == pytest.approx(
        structural_similarity(cy, py, data_range=255, **SKIMAGE_SSIM), abs=1e-6
    )
    assert metrics.psnr(pred, clean, y_channel=False, **opts) == pytest.approx(
        peak_signal_noise_ratio(crgb, prgb, data_range=1), abs=1e-6
    )
    assert metrics.ssim(pred, clean, y_channel=False, **opts) == pytest.approx(
        structural_similarity(crgb, prgb, data_range=1, channel_axis=-1, **SKIMAGE_SSIM), abs=1e-6
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("y_channel", [True, False])
def test_torch_matches_numpy_per_image(
    pair: tuple[np.ndarray, np.ndarray], dtype: torch.dtype, y_channel: bool
) -> None:
    pred, clean = pair
    other = eight_bit(smooth_image(40, 52, seed=2))
    x, y = to_tensor(pred, other, dtype=dtype), to_tensor(clean, clean, dtype=dtype)
    opts = {"y_channel": y_channel, "crop_border": 2}
    got_psnr, got_ssim = metrics.psnr_pt(x, y, **opts), metrics.ssim_pt(x, y, **opts)
    assert got_psnr.shape == got_ssim.shape == (2,)
    for i, img in enumerate((pred, other)):
        assert got_psnr[i].item() == pytest.approx(metrics.psnr(img, clean, **opts), abs=1e-4)
        assert got_ssim[i].item() == pytest.approx(metrics.ssim(img, clean, **opts), abs=1e-4)


def test_identical_images_give_inf_psnr_and_unit_ssim(pair: tuple[np.ndarray, np.ndarray]) -> None:
    _, clean = pair
    with np.errstate(all="raise"):  # no divide-by-zero warning on the way to inf
        assert metrics.psnr(clean, clean) == math.inf
    assert metrics.ssim(clean, clean) == pytest.approx(1.0)
    t = to_tensor(clean)
    assert torch.isinf(metrics.psnr_pt(t, t)).all()
    assert metrics.ssim_pt(t, t, y_channel=False).item() == pytest.approx(1.0)
    assert metrics.score_images(clean, clean)["ssim_y"] == pytest.approx(1.0)


def test_quantize_scores_the_8bit_image(pair: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> None:
    pred, clean = pair
    off_grid = np.clip(pred + rng.uniform(-0.4, 0.4, pred.shape) / 255, 0, 1).astype(np.float32)
    assert metrics.psnr(off_grid, clean) != pytest.approx(metrics.psnr(pred, clean), abs=1e-6)
    assert metrics.psnr(off_grid, clean, quantize=True) == pytest.approx(metrics.psnr(pred, clean), abs=1e-6)
    got = metrics.ssim_pt(to_tensor(off_grid), to_tensor(clean), quantize=True).item()
    assert got == pytest.approx(metrics.ssim(pred, clean), abs=1e-6)


def test_ssim_pt_is_differentiable() -> None:
    x = to_tensor(smooth_image(13, 14, seed=3)).requires_grad_(True)
    y = to_tensor(smooth_image(13, 14, seed=4))
    assert torch.autograd.gradcheck(lambda a: metrics.ssim_pt(a, y, y_channel=False), (x,))
    (1 - metrics.ssim_pt(x, y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("pred_shape", "target_shape", "kwargs", "match"),
    [
        ((20, 20, 3), (20, 21, 3), {}, "shapes differ"),
        ((20, 20, 1), (20, 20, 1), {}, "3-channel"),
        ((20, 20, 3), (20, 20, 3), {"crop_border": 10}, "leaves nothing"),
        ((20, 20, 3), (20, 20, 3), {"crop_border": 5}, "at least 11x11"),
    ],
)
def test_bad_shapes_raise(pred_shape: tuple, target_shape: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        metrics.ssim(np.zeros(pred_shape), np.zeros(target_shape), **kwargs)
    with pytest.raises(ValueError, match=match):
        metrics.ssim_pt(
            torch.zeros(pred_shape).permute(2, 0, 1)[None], torch.zeros(target_shape).permute(2, 0, 1)[None], **kwargs
        )


def test_integer_images_are_refused() -> None:
    with pytest.raises(TypeError, match="float images"):
        metrics.psnr(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8))
