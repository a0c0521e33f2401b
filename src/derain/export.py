"""Export a derainer to ONNX or TorchScript for deployment without this package.

The exported graph takes ``(1, 3, H, W)`` float32 RGB in [0, 1] and returns the background image
of the same shape. Models pad internally to ``size_divisor``; that padding is a Python branch on the
input size, which neither exporter can keep dynamic. So:

* when the example size ``H x W`` is a multiple of ``size_divisor``, H and W are **dynamic in
  multiples of size_divisor** (ONNX: ``torch.export`` derived dims ``size_divisor * k``;
  TorchScript: the trace has no padding branch). Pad other sizes yourself (reflect) and crop back;
* otherwise the export is **fixed** at exactly ``H x W`` (the padding is baked in).

ONNX uses the ``torch.export``-based exporter (``dynamo=True``, needs onnxscript): it is the default
in current torch, understands derived dims, and the legacy TorchScript-based ONNX exporter is
deprecated. Weights are embedded in the ``.onnx`` file (no external data), so one file is the model.
The file's metadata records the model name, ``size_divisor`` and whether the size is dynamic.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from derain.atomic import atomic_path
from derain.errors import ConfigError, ModelError, WriteError
from derain.models.base import DerainModel

__all__ = ["FORMATS", "ExportResult", "export_model"]

Format = Literal["onnx", "torchscript"]
#: Supported formats and their usual suffix.
FORMATS: dict[str, str] = {"onnx": ".onnx", "torchscript": ".pt"}
_INPUT, _OUTPUT = "image", "background"
_MAX_SIDE = 16384  # largest dynamic side declared to torch.export


@dataclass(frozen=True)
class ExportResult:
    """What was written.

    Attributes:
        path: the exported file.
        format: ``"onnx"`` or ``"torchscript"``.
        size: example ``(H, W)`` the model was exported with.
        dynamic: True when H and W accept any multiple of ``size_divisor``.
        size_divisor: the model's size divisor.
    """

    path: Path
    format: str
    size: tuple[int, int]
    dynamic: bool
    size_divisor: int


class _Background(nn.Module):
    """``x -> model(x).background``: exporters need a plain tensor output."""

    def __init__(self, model: DerainModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).background


def export_model(
    model: DerainModel,
    path: str | Path,
    *,
    format: Format,
    size: tuple[int, int] = (256, 256),
    model_name: str = "",
) -> ExportResult:
    """Export ``model`` (any device; exported on the CPU in float32) to ``path``, atomically.

    Args:
        model: a single-image model.
        path: destination file.
        format: ``"onnx"`` or ``"torchscript"``.
        size: example ``(H, W)``; multiples of ``size_divisor`` give dynamic H/W (see module docstring).
        model_name: registered name, stored in the ONNX metadata.

    Raises:
        ConfigError: unknown format or non-positive size.
        ModelError: a video model (its recurrent state has no export contract yet).
        WriteError: the exporter failed or the file cannot be written.
    """
    if format not in FORMATS:
        raise ConfigError(f"--format {format!r}: unknown (use {' or '.join(FORMATS)})")
    if min(size) < 1:
        raise ConfigError(f"--size {size[0]} {size[1]}: sides must be >= 1")
    if model.is_video:
        raise ModelError(f"{model_name or type(model).__name__}: video models cannot be exported yet")
    path = Path(path)
    divisor = model.size_divisor
    dynamic = size[0] % divisor == 0 and size[1] % divisor == 0
    wrapper = _Background(model).to("cpu", torch.float32).eval().requires_grad_(False)
    example = torch.rand(1, 3, *size)
    with atomic_path(path) as tmp:
        try:
            if format == "onnx":
                dynamic = _onnx(wrapper, example, tmp, divisor if dynamic else None, model_name)
            else:
                _torchscript(wrapper, example, tmp)
        except (RuntimeError, ValueError, TypeError, torch.onnx.errors.OnnxExporterError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WriteError(f"{path}: {format} export failed ({first})") from exc
    return ExportResult(path, format, tuple(size), dynamic, divisor)


def _onnx(wrapper: nn.Module, example: torch.Tensor, tmp: Path, divisor: int | None, model_name: str) -> bool:
    """ONNX through torch.export; H/W dims are ``divisor * k`` when ``divisor`` is given and the model allows.

    Returns whether H/W really stayed dynamic: a loop over the image side (spanet's IRNN) makes the
    exporter specialise the graph to the example size, which the metadata must then say.
    """
    shapes = None
    if divisor is not None:
        h = torch.export.Dim("h_blocks", min=1, max=_MAX_SIDE // divisor)
        w = torch.export.Dim("w_blocks", min=1, max=_MAX_SIDE // divisor)
        shapes = {"x": {2: divisor * h, 3: divisor * w}}
    with _quiet():
        program = torch.onnx.export(
            wrapper,
            (example,),
            dynamo=True,
            dynamic_shapes=shapes,
            input_names=[_INPUT],
            output_names=[_OUTPUT],
            optimize=True,
            verbose=False,
        )
    dynamic = divisor is not None and not all(isinstance(d, int) for d in program.model.graph.inputs[0].shape[2:])
    meta = {"derain_model": model_name, "size_divisor": str(divisor or 0), "dynamic_hw": str(dynamic)}
    program.model.metadata_props.update(meta)
    program.save(tmp, external_data=False)
    return dynamic


def _torchscript(wrapper: nn.Module, example: torch.Tensor, tmp: Path) -> None:
    """Trace (scripting cannot compile the ModelOutput dataclass); checked against eager on the example."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarning about the padding branch: handled by the size rule
        traced = torch.jit.trace(wrapper, example, check_trace=False)
    with torch.inference_mode():
        gap = (traced(example) - wrapper(example)).abs().max().item()
    if gap > 1e-4:
        raise RuntimeError(f"traced model differs from eager by {gap:.2g}")
    torch.jit.save(traced, str(tmp))


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's progress prints, log lines and warnings (errors still raise)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
