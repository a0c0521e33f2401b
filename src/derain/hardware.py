"""What a number was measured on: the one description of the hardware, for manifests and reports."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

import torch

__all__ = ["cpu_model", "describe_hardware"]


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or sys.platform


def describe_hardware(device: torch.device) -> dict[str, Any]:
    """CPU model, GPU name (None off CUDA), device, torch version and CPU thread count."""
    return {
        "cpu": cpu_model(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
