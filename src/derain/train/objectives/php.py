"""Objective ``php``: eq. 5 of paper 004 (Xu et al.) on paired batches.

``L = l1 * L_acc(X^c, lowpass(clean)) + l2 * L_acc(X, clean) + l3 * L_col(X^c, clean) + l4 * L_seg(Phi(X^c), S)``

with the Charbonnier ``L_acc``, the cosine ``L_col`` and the cross-entropy ``L_seg`` of
:mod:`derain.losses.php`; ``X^c`` is the model's ``coarse`` output. The paper's weights are the
defaults (1, 1, 0.1, 0.05).

``lambda_ssim`` (default 0, i.e. off: not in the paper) adds ``1 - SSIM_rgb(X, clean)`` on the final
output, the term derain's ``supervised`` recipes (baseline, fastnet) train with. Eq. 5 alone is
pixel-wise, and php trained on it fell behind baseline in SSIM on heavy rain (docs/methods/php.md,
leg 18); the SSIM term rewards local structure that the Charbonnier term treats as ordinary error.
``balance_images`` (default off, not in the paper) weights each image's Charbonnier terms by the batch
mean over its own value, so images with rain everywhere do not outvote images with a few streaks; it
did not keep Rain12 (docs/methods/php.md, legs 44-45), and stays so that those legs rerun.
``teacher`` with ``lambda_teacher`` (default off, not in the paper) adds ``L_acc(X, T(Y))``, the final
output against a frozen trained derainer's output on the same crop (:mod:`derain.train.teacher`).

The segmentation network ``Phi`` belongs to the objective (it only regularises training and is
never exported). As the paper says, it has the deraining network's structure: a
:class:`~derain.models.php.SubNet` with the first sub-network's widths (``PHPConfig`` defaults),
``seg_classes`` outputs. ``L_seg`` is applied only to batches that carry ``labels`` (``(B, H, W)``
class ids, 255 = unlabelled); batches without them train on the other three terms, and the term
is then absent from the log rather than logged as 0.
"""

from __future__ import annotations

import torch

from derain.errors import ConfigError
from derain.eval.metrics import ssim_pt
from derain.losses.php import DEFAULT_LOWPASS_KERNEL, charbonnier_loss, colour_loss, gaussian_lowpass, segmentation_loss
from derain.models.base import DerainModel
from derain.models.php import PHPConfig, SubNet
from derain.train.objectives.base import OBJECTIVES, Objective
from derain.train.teacher import optional_teacher

__all__ = ["PHPObjective"]


@OBJECTIVES.register("php")
class PHPObjective(Objective):
    """Eq. 5 on ``{"rain", "clean"[, "labels"]}`` batches.

    Args:
        lambda_coarse: ``L_acc(X^c, X_f^gt)``, the first sub-network against the low-pass target (paper: 1).
        lambda_fine: ``L_acc(X, X^gt)``, the final output against the clean image (paper: 1).
        lambda_col: ``L_col(X^c, X^gt)``, colour alignment of the first output (paper: 0.1).
        lambda_seg: ``L_seg(Phi(X^c), S^gt)`` when labels exist (paper: 0.05).
        lambda_ssim: ``1 - SSIM_rgb(X, X^gt)`` on the final output (not in the paper: 0 = off).
        lowpass_kernel: Gaussian kernel side of ``X_f^gt`` (odd, 3-9 in the paper).
        eps: Charbonnier epsilon.
        balance_images: weight each image's Charbonnier terms by the batch mean over its own value
            (not in the paper: False = eq. 5; :func:`~derain.losses.php.charbonnier_loss`).
        teacher: ``bundled:NAME`` or a weights file whose output X is also pulled towards ("" = none).
        lambda_teacher: weight of ``L_acc(X, teacher(Y))`` (not in the paper: 0 = off).
        seg_classes: classes of the segmentation head; 0 means no head (then labelled batches are an error).
        seg_width: feature width of the segmentation network (default: the first sub-network's).
        seg_blocks: its PHP blocks (default: the first sub-network's).
    """

    kind = "paired"

    def __init__(
        self,
        lambda_coarse: float = 1.0,
        lambda_fine: float = 1.0,
        lambda_col: float = 0.1,
        lambda_seg: float = 0.05,
        lambda_ssim: float = 0.0,
        lowpass_kernel: int = DEFAULT_LOWPASS_KERNEL,
        eps: float = 1e-3,
        balance_images: bool = False,
        teacher: str = "",
        lambda_teacher: float = 0.0,
        seg_classes: int = 0,
        seg_width: int = PHPConfig.width,
        seg_blocks: int = PHPConfig.blocks,
    ) -> None:
        super().__init__()
        if min(lambda_coarse, lambda_fine, lambda_col, lambda_seg, lambda_ssim, lambda_teacher) < 0:
            raise ConfigError("objective.options: loss weights lambda_* must be >= 0")
        if lowpass_kernel < 3 or lowpass_kernel % 2 == 0:
            raise ConfigError(f"objective.options.lowpass_kernel: must be an odd integer >= 3, got {lowpass_kernel}")
        if seg_classes < 0 or seg_classes == 1:
            raise ConfigError(f"objective.options.seg_classes: must be 0 (no head) or >= 2, got {seg_classes}")
        self.weights = {
            "coarse": lambda_coarse,
            "fine": lambda_fine,
            "col": lambda_col,
            "seg": lambda_seg,
            "ssim": lambda_ssim,
            "teacher": lambda_teacher,
        }
        self.teacher = optional_teacher(teacher, lambda_teacher, "lambda_teacher")
        self.lowpass_kernel = lowpass_kernel
        self.eps = eps
        self.balance_images = balance_images
        arch = PHPConfig()
        self.segmenter = (
            SubNet(
                3,
                seg_classes,
                width=seg_width,
                blocks=seg_blocks,
                levels=arch.levels,
                branches=arch.branches,
                pooling=arch.pooling,
            )
            if seg_classes
            else None
        )

    def forward(
        self, model: DerainModel, batch: dict[str, torch.Tensor], progress: float
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Derain ``batch["rain"]``; the model must return ``coarse`` (the ``php`` family does)."""
        out = model(batch["rain"])
        coarse = out.coarse
        if coarse is None:
            raise ConfigError("objective.name: 'php' needs a model with a coarse output X^c (model.name: php)")
        labels = batch.get("labels")
        taught = self.teacher(batch["rain"]) if self.teacher is not None else None
        with torch.autocast(coarse.device.type, enabled=False):
            return self.loss(coarse.float(), out.background.float(), batch["clean"].float(), labels, taught)

    def loss(
        self,
        coarse: torch.Tensor,
        fine: torch.Tensor,
        clean: torch.Tensor,
        labels: torch.Tensor | None = None,
        taught: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Eq. 5 from the two outputs, the clean image, optional ``(B, H, W)`` labels and the teacher's output."""
        terms = {
            "coarse": charbonnier_loss(
                coarse, gaussian_lowpass(clean, self.lowpass_kernel), self.eps, self.balance_images
            ),
            "fine": charbonnier_loss(fine, clean, self.eps, self.balance_images),
            "col": colour_loss(coarse, clean),
        }
        if self.weights["ssim"]:
            terms["ssim"] = 1.0 - ssim_pt(fine, clean, y_channel=False).mean()
        if taught is not None:
            terms["teacher"] = charbonnier_loss(fine, taught.float(), self.eps, self.balance_images)
        if labels is not None:
            if self.segmenter is None:
                raise ConfigError("objective.options.seg_classes: the data has label maps; set the number of classes")
            terms["seg"] = segmentation_loss(self.segmenter(coarse), labels)
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, {name: float(value.detach()) for name, value in terms.items()}
