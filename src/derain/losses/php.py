"""Losses of paper 004 (Xu et al.), eqs. 3-5: Charbonnier accuracy, cosine colour alignment, segmentation CE.

Pure functions on ``(B, C, H, W)`` tensors; the objective ``php`` (``derain.train.objectives.php``)
weights and combines them. Means rather than the paper's sums, so no term scales with crop or batch.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = [
    "DEFAULT_LOWPASS_KERNEL",
    "IGNORE_LABEL",
    "charbonnier_loss",
    "colour_loss",
    "gaussian_lowpass",
    "gaussian_sigma",
    "segmentation_loss",
]

#: Gaussian kernel side of the low-pass target ``X_f^gt`` (the paper tried 3, 5, 7 and 9 px on
#: 2048x1024 Cityscapes photos). Our training photos are 4-8 times smaller (CBSD, Urban100, Kodak),
#: so details sit at fewer pixels: 5 px (sigma 1.1) removes texture and leaves edges and colour,
#: while 9 px (sigma 1.7) already blurs object outlines at these sizes. See docs/methods/php.md.
DEFAULT_LOWPASS_KERNEL = 5
#: Label value excluded from the cross-entropy (unlabelled pixels), as in Cityscapes' trainId 255.
IGNORE_LABEL = 255


def charbonnier_loss(x: torch.Tensor, target: torch.Tensor, eps: float = 1e-3, balanced: bool = False) -> torch.Tensor:
    """``mean(sqrt((x - target)^2 + eps^2))``, the "approximated L1" of eq. 3 (Charbonnier).

    ``eps`` keeps the gradient finite at zero error; the loss of a perfect prediction is ``eps``.

    ``balanced`` (not in the paper) gives every image of the batch the same say: image ``i``'s loss
    ``L_i`` is weighted by ``mean(L) / L_i`` (both detached), the gradient of ``mean(L) * log L_i``.
    A plain mean pulls every wrong pixel alike, so images with rain everywhere outvote images with a
    few streaks, while the benchmarks average PSNR over images, and an image's PSNR moves with its
    *relative* error. The value is unchanged (the plain mean).
    """
    per_image = torch.sqrt((x - target) ** 2 + eps * eps).flatten(1).mean(dim=1)
    if not balanced:
        return per_image.mean()
    scale = per_image.detach()
    return (per_image * (scale.mean() / scale)).mean()


def gaussian_sigma(kernel_size: int) -> float:
    """Sigma of a kernel side by OpenCV's rule (``cv2.getGaussianKernel``, sigma <= 0): 5 -> 1.1, 9 -> 1.7."""
    return 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8


def gaussian_lowpass(x: torch.Tensor, kernel_size: int = DEFAULT_LOWPASS_KERNEL) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, C, H, W)`` with an odd ``kernel_size``; reflected borders.

    This is ``X_f^gt``, the first sub-network's target: the clean image without its high-frequency
    details. Constant images are unchanged (the taps sum to one) and the output keeps the shape.

    Raises:
        ValueError: ``kernel_size`` is not an odd integer >= 3.
    """
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd integer >= 3, got {kernel_size}")
    sigma = gaussian_sigma(kernel_size)
    half = kernel_size // 2
    grid = torch.arange(-half, half + 1, dtype=torch.float32, device=x.device)
    taps = torch.exp(-(grid**2) / (2 * sigma * sigma))
    taps = (taps / taps.sum()).to(x.dtype)
    c = x.shape[1]
    mode = "reflect" if min(x.shape[-2:]) > half else "replicate"
    out = F.pad(x, (half, half, half, half), mode=mode)
    out = F.conv2d(out, taps.view(1, 1, 1, -1).expand(c, 1, 1, kernel_size), groups=c)
    return F.conv2d(out, taps.view(1, 1, -1, 1).expand(c, 1, kernel_size, 1), groups=c)


def colour_loss(x: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``L_col`` (eq. 4): one minus the mean cosine similarity of the RGB vectors of each pixel.

    Magnitude-invariant: ``x = k * target`` (k > 0) costs nothing, a hue shift does. ``eps`` guards
    black pixels, whose direction is undefined (they contribute a similarity near 0).
    """
    return 1.0 - F.cosine_similarity(x, target, dim=1, eps=eps).mean()


def segmentation_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L_seg``: per-pixel cross-entropy of ``(B, K, H, W)`` logits against ``(B, H, W)`` class ids.

    Pixels labelled :data:`IGNORE_LABEL` do not count; an all-ignored batch gives 0, not NaN.
    """
    valid = labels != IGNORE_LABEL
    if not bool(valid.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits, labels.long(), ignore_index=IGNORE_LABEL)
