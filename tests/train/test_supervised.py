"""The ``supervised`` objective: L1 + optional 1 - SSIM on paired batches."""

from __future__ import annotations

import pytest
import torch

from derain.models.base import DerainModel, ModelOutput
from derain.train.objectives import OBJECTIVES


class _Shift(DerainModel):
    """Returns the input plus a constant: a known L1 error."""

    def __init__(self, offset: float) -> None:
        super().__init__()
        self.offset = offset

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return ModelOutput(background=x + self.offset)


def test_l1_and_ssim_terms() -> None:
    clean = torch.rand(2, 3, 16, 16)
    objective = OBJECTIVES.get("supervised")(ssim_weight=0.5)
    assert objective.kind == "paired"
    loss, terms = objective(_Shift(0.0), {"rain": clean, "clean": clean}, 0.0)
    assert float(loss) == pytest.approx(0.0, abs=1e-6) and set(terms) == {"l1", "ssim"}
    loss, terms = objective(_Shift(0.1), {"rain": clean, "clean": clean}, 0.0)
    assert terms["l1"] == pytest.approx(0.1, rel=1e-5)
    assert float(loss) == pytest.approx(terms["l1"] + 0.5 * terms["ssim"], rel=1e-5)


def test_rejects_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="not both 0"):
        OBJECTIVES.get("supervised")(l1_weight=0.0)
