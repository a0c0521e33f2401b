"""torchrun support: process-group setup, device choice and the few collectives the trainer needs.

Under ``torchrun`` the environment carries ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; without it the
trainer runs as a world of one and every helper here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from derain.errors import ConfigError

__all__ = ["DistEnv", "all_gather_objects", "all_reduce_mean", "barrier", "init_distributed", "shutdown"]


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in the job."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes logs, checkpoints and exports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str) -> DistEnv:
    """Read torchrun's environment, pick this rank's device and join the process group (gloo/nccl).

    Raises:
        ConfigError: ``device`` asks for CUDA that is not available, or is not a device name.
    """
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    torch_device = resolve_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if torch_device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistEnv(rank, world_size, local_rank, torch_device)


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> this rank's GPU if there is one, else CPU; ``cuda`` -> ``cuda:<local rank>``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"train.device: {name!r} is not a device (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device: {name!r} requested but CUDA is not available")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def all_reduce_mean(value: torch.Tensor, env: DistEnv) -> float:
    """Mean of a scalar over ranks (the same number on every rank, so all ranks agree on NaN stops)."""
    if not env.distributed:
        return float(value)
    total = value.detach().float().reshape(1).clone()
    dist.all_reduce(total)
    return float(total) / env.world_size


def all_gather_objects(obj: object, env: DistEnv) -> list[object]:
    """Every rank's ``obj`` in rank order (used for per-rank RNG states in checkpoints)."""
    if not env.distributed:
        return [obj]
    out: list[object] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def shutdown(env: DistEnv) -> None:
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()
