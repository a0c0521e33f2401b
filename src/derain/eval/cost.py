"""What a model costs to run: parameters, GFLOPs and CPU milliseconds per image.

GFLOPs come from :class:`torch.utils.flop_counter.FlopCounterMode`, which counts the matrix
operations (convolutions, matmuls, attention) at 2 FLOPs per multiply-add and ignores
element-wise work (activations, padding, interpolation, normalisation); :data:`FLOP_NOTE` says so
in every report. CPU time is the median of a few timed forward passes after warm-up, always on the
CPU in float32, with the thread count recorded next to it: the number only means something with it.
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from derain.inference import make_step
from derain.models.base import DerainModel

__all__ = ["FLOP_NOTE", "ModelCost", "count_params", "cpu_ms", "gflops", "measure_cost"]

#: One line for reports: what the GFLOPs column counts.
FLOP_NOTE = (
    "GFLOPs from torch.utils.flop_counter.FlopCounterMode: convolutions and matmuls only, "
    "2 FLOPs per multiply-add; element-wise ops not counted"
)


@dataclass(frozen=True)
class ModelCost:
    """Cost of one model at one square input size.

    Attributes:
        params: number of parameters (buffers such as memory items excluded).
        gflops: forward GFLOPs for one ``size x size`` image (see :data:`FLOP_NOTE`).
        cpu_ms: median CPU milliseconds for one ``size x size`` image.
        cpu_threads: ``torch.get_num_threads()`` during the timing.
        size: input side in pixels.
        runs: timed runs behind the median.
    """

    params: int
    gflops: float
    cpu_ms: float
    cpu_threads: int
    size: int
    runs: int

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


def count_params(model: torch.nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


@torch.inference_mode()
def gflops(model: DerainModel, size: int = 512) -> float:
    """Forward GFLOPs of ``model`` on one ``(1, 3, size, size)`` image, on the model's device."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    x = torch.rand(1, 3, size, size, device=device, dtype=dtype)
    with FlopCounterMode(display=False) as counter:
        make_step(model)(x, (0, 0))
    return counter.get_total_flops() / 1e9


@torch.inference_mode()
def cpu_ms(model: DerainModel, size: int = 512, *, runs: int = 3, warmup: int = 1) -> float:
    """Median CPU milliseconds of one forward pass on a ``(1, 3, size, size)`` image.

    The model is timed as it is (call it on a CPU float32 copy; see :func:`measure_cost`).

    Raises:
        ValueError: ``runs`` < 1 or ``warmup`` < 0.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    x = torch.rand(1, 3, size, size)
    step = make_step(model)  # video models: frame after frame on a carried state, as inference runs them
    for _ in range(warmup):
        step(x, (0, 0))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step(x, (0, 0))
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure_cost(model: DerainModel, size: int = 512, *, runs: int = 3, warmup: int = 1) -> ModelCost:
    """Parameters, GFLOPs and CPU ms of ``model`` at ``size x size``; the model itself is left untouched.

    Timing runs on a float32 CPU copy in eval mode, so a model loaded on a GPU still gets a CPU number.
    """
    cpu_model = copy.deepcopy(model).to("cpu", torch.float32).eval()
    return ModelCost(
        params=count_params(model),
        gflops=gflops(cpu_model, size),
        cpu_ms=cpu_ms(cpu_model, size, runs=runs, warmup=warmup),
        cpu_threads=torch.get_num_threads(),
        size=size,
        runs=runs,
    )
