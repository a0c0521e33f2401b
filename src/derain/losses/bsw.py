"""Background selective whitening (BSW) loss, eqs. 10-13 of Cho, Kim & Sohn (seed paper 001).

Two frames of one static scene share their background, so covariance elements of the encoder
query that barely change between the frames encode background; the loss drives those elements
towards zero ("whitens" them) so that the memory stores rain only.

Reading of the paper's vague points (also in ``docs/methods/memory.md``):

* ``l = 2, h = 4``: the per-element variances ``V`` are clustered into ``h = 4`` groups by 1-D
  k-means (as RobustNet's ISW, the paper's ref. [67], clusters its variances); the ``l = 2``
  groups with the lowest centres form ``G_low`` (background), the mask ``M`` selects them.
  K-means starts from a farthest-point seeding and runs a fixed number of steps, so the result is
  deterministic. (Equal-count quantile groups would be simpler, but they always call half of the
  elements "background" whatever the variances look like.)
* The diagonal is left out (of the clustering and of the loss): after instance normalisation
  every channel's variance is the same constant, so it carries no information and no gradient.
* The mask is computed per sample and carries no gradient; ``L_w`` is the mean ``|Sigma|`` over
  the masked elements, for both frames' covariances.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["BSWLoss", "bsw_loss", "bsw_mask", "feature_covariance", "kmeans_1d"]


def feature_covariance(query: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Covariance ``f f^T / (HW - 1)`` of the instance-normalised features, in float32 even under AMP.

    Args:
        query: ``(B, C, h, w)`` features with ``h * w >= 2``.
        eps: instance-norm stabiliser.

    Returns:
        ``(B, C, C)`` covariance matrices.
    """
    b, c, h, w = query.shape
    with torch.autocast(query.device.type, enabled=False):  # variances of covariances need float32
        f = F.instance_norm(query.float(), eps=eps).reshape(b, c, h * w)
        return f @ f.transpose(1, 2) / (h * w - 1)


def kmeans_1d(values: torch.Tensor, groups: int, steps: int = 10) -> torch.Tensor:
    """Sorted 1-D k-means centres of each row.

    Starts from a deterministic farthest-point seeding (the minimum, then repeatedly the value
    farthest from every centre so far), which never seeds two centres on one level while
    another level is still uncovered, as quantile starts do on tied values.

    Args:
        values: ``(B, N)`` numbers to cluster, row by row.
        groups: number of clusters ``k``.
        steps: Lloyd iterations after the seeding.

    Returns:
        ``(B, groups)`` centres in increasing order (an empty cluster keeps its centre).
    """
    centres = values.min(dim=1, keepdim=True).values
    for _ in range(groups - 1):
        gap = (values.unsqueeze(-1) - centres.unsqueeze(1)).abs().min(dim=-1).values  # (B, N)
        centres = torch.cat([centres, values.gather(1, gap.argmax(dim=1, keepdim=True))], dim=1)
    for _ in range(steps):
        assign = (values.unsqueeze(-1) - centres.unsqueeze(1)).abs().argmin(dim=-1)  # (B, N)
        onehot = F.one_hot(assign, groups).to(values.dtype)  # (B, N, k)
        count = onehot.sum(dim=1)
        total = (onehot * values.unsqueeze(-1)).sum(dim=1)
        centres = torch.where(count > 0, total / count.clamp_min(1), centres)
    return centres.sort(dim=1).values


@torch.no_grad()
def bsw_mask(cov_a: torch.Tensor, cov_b: torch.Tensor, *, low: int = 2, groups: int = 4) -> torch.Tensor:
    """Mask ``M`` of the low-variance (background) covariance elements (eqs. 10-12).

    Args:
        cov_a: ``(B, C, C)`` covariance of frame a's query.
        cov_b: ``(B, C, C)`` covariance of frame b's query (same scene).
        low: ``l``, how many of the lowest-variance groups are background.
        groups: ``h``, how many groups the variances are clustered into.

    Returns:
        ``(B, C, C)`` float mask (1 = background element), symmetric, zero diagonal.
    """
    if not 0 < low < groups:
        raise ValueError(f"bsw_mask: need 0 < low < groups, got low={low}, groups={groups}")
    c = cov_a.shape[-1]
    var = ((cov_a - cov_b) / 2) ** 2  # eq. 11 with mu = (a + b) / 2
    rows, cols = torch.triu_indices(c, c, offset=1, device=var.device)
    upper = var[:, rows, cols]  # (B, C(C-1)/2)
    centres = kmeans_1d(upper, groups)
    threshold = (centres[:, low - 1] + centres[:, low]) / 2  # boundary between the groups
    mask = torch.zeros_like(var)
    picked = (upper <= threshold.unsqueeze(1)).to(var.dtype)
    mask[:, rows, cols] = picked
    mask[:, cols, rows] = picked
    return mask


def bsw_loss(query_a: torch.Tensor, query_b: torch.Tensor, *, low: int = 2, groups: int = 4) -> torch.Tensor:
    """``L_w`` (eq. 13): mean ``|Sigma ⊙ M|`` over the background elements of both frames.

    Args:
        query_a: ``(B, C, h, w)`` encoder query of frame a.
        query_b: ``(B, C, h, w)`` encoder query of frame b (same scene, other time).
        low: ``l`` (paper: 2).
        groups: ``h`` (paper: 4).

    Returns:
        Scalar loss.
    """
    cov_a, cov_b = feature_covariance(query_a), feature_covariance(query_b)
    mask = bsw_mask(cov_a, cov_b, low=low, groups=groups)
    per_sample = ((cov_a.abs() + cov_b.abs()) * mask).sum(dim=(1, 2)) / (2 * mask.sum(dim=(1, 2)).clamp_min(1))
    return per_sample.mean()


class BSWLoss(nn.Module):
    """Module wrapper of :func:`bsw_loss` holding ``l`` and ``h``."""

    def __init__(self, low: int = 2, groups: int = 4) -> None:
        super().__init__()
        self.low, self.groups = low, groups

    def forward(self, query_a: torch.Tensor, query_b: torch.Tensor) -> torch.Tensor:
        return bsw_loss(query_a, query_b, low=self.low, groups=self.groups)
