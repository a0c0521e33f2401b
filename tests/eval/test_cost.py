"""derain.eval.cost: parameter count, FLOP counting and CPU timing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from derain.eval.cost import ModelCost, count_params, cpu_ms, gflops, measure_cost
from derain.models import DerainModel, ModelOutput, build_model


class OneConv(DerainModel):
    """A model whose FLOPs are known in closed form."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return ModelOutput(background=self.conv(x))


def test_count_params_matches_manual_sum() -> None:
    assert count_params(OneConv()) == 3 * 3 * 3 * 3 + 3


def test_gflops_counts_two_flops_per_multiply_add() -> None:
    size = 32
    assert gflops(OneConv(), size) == pytest.approx(2 * 3 * 3 * 9 * size * size / 1e9)


def test_gflops_scale_with_pixels() -> None:
    model = build_model("baseline", {"channels": (4, 8)}).eval()
    assert gflops(model, 64) == pytest.approx(4 * gflops(model, 32), rel=1e-6)


def test_cpu_ms_positive_and_validates_runs() -> None:
    assert cpu_ms(OneConv().eval(), 16, runs=2, warmup=0) > 0
    with pytest.raises(ValueError, match="runs"):
        cpu_ms(OneConv(), 16, runs=0)


def test_measure_cost_records_threads_and_leaves_model_alone() -> None:
    model = OneConv().train()
    cost = measure_cost(model, 16, runs=1)
    assert isinstance(cost, ModelCost)
    assert cost.params == count_params(model) and cost.size == 16 and cost.runs == 1
    assert cost.cpu_threads == torch.get_num_threads()
    assert model.training  # the timing ran on an eval-mode copy
    assert set(cost.as_dict()) == {"params", "gflops", "cpu_ms", "cpu_threads", "size", "runs"}
