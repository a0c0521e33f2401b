"""Optimiser, parameter groups, frozen sub-modules, learning-rate schedule and EMA weights (``train``).

Staged recipes (php trains its sub-networks in turn) and EMA (the restoration field's default for
reported weights) are choices about *which* weights move and how, independent of the loop that
moves them.
"""

from __future__ import annotations

import copy
import fnmatch
import math

import torch
from torch import nn

from derain.errors import ConfigError
from derain.train.config import TrainSection

__all__ = ["Ema", "build_optimizer", "freeze", "lr_factor"]


def freeze(model: nn.Module, prefixes: tuple[str, ...]) -> None:
    """Stop gradients of every parameter under each dotted module ``prefix`` (``train.freeze``).

    Raises:
        ConfigError: a prefix names no parameter (a typo would otherwise silently train everything).
    """
    names = [name for name, _ in model.named_parameters()]
    for i, prefix in enumerate(prefixes):
        matched = [name for name in names if name == prefix or name.startswith(prefix + ".")]
        if not matched:
            raise ConfigError(f"train.freeze[{i}]: {prefix!r} names no parameter of the model")
        for name in matched:
            model.get_parameter(name).requires_grad_(False)


def build_optimizer(model: nn.Module, extra: nn.Module, train: TrainSection) -> torch.optim.Optimizer:
    """Adam(W) over the trainable parameters of ``model`` and ``extra`` (the objective's).

    Each model parameter goes to the first ``train.param_groups`` entry whose ``match`` (a glob
    over the dotted parameter name, e.g. ``refine.*``) it matches, with that entry's ``lr``; the rest
    (and the objective's parameters) form the first group with ``train.lr``. The schedule scales
    every group by the same factor.

    Raises:
        ConfigError: a group matches no trainable parameter.
    """
    default = [p for p in extra.parameters() if p.requires_grad]
    grouped: list[list[nn.Parameter]] = [[] for _ in train.param_groups]
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        slot = next((i for i, g in enumerate(train.param_groups) if fnmatch.fnmatchcase(name, g.match)), None)
        (default if slot is None else grouped[slot]).append(param)
    groups = [{"params": default, "lr": train.lr}]
    for i, (group, params) in enumerate(zip(train.param_groups, grouped, strict=True)):
        if not params:
            raise ConfigError(f"train.param_groups[{i}].match: {group.match!r} matches no trainable parameter")
        groups.append({"params": params, "lr": group.lr})
    groups = [g for g in groups if g["params"]]
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[train.optimizer]
    return cls(groups, lr=train.lr, betas=train.betas, weight_decay=train.weight_decay)


def lr_factor(step: int, train: TrainSection) -> float:
    """Multiplier of every group's lr after ``step`` optimiser steps: linear warm-up, then the schedule."""
    if step < train.warmup_steps:
        return (step + 1) / train.warmup_steps
    if train.schedule == "step":
        return train.gamma ** sum(step >= m for m in train.milestones)
    if train.schedule == "cosine":
        span = max(1, train.steps - train.warmup_steps)
        t = min(1.0, (step - train.warmup_steps) / span)
        floor = train.min_lr / train.lr
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))
    return 1.0


class Ema:
    """Exponential moving average of a model's weights (``train.ema``), kept in a frozen eval copy.

    The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (as TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``), so a short run's average is not dominated by
    the random initial weights. Buffers (e.g. memory items, batch-norm statistics) are copied, not
    averaged: they are state, not weights.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, param in zip(self.module.parameters(), model.parameters(), strict=True):
            avg.lerp_(param.detach().to(avg.dtype), 1.0 - decay)
        for avg, buf in zip(self.module.buffers(), model.buffers(), strict=True):
            avg.copy_(buf)

    def state_dict(self) -> dict:
        return {"model": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["model"])
        self.updates = state["updates"]
