"""Optimiser and learning-rate schedule from the ``train`` section."""

from __future__ import annotations

import math

import torch
from torch import nn

from derain.train.config import TrainSection

__all__ = ["build_optimizer", "lr_factor"]


def build_optimizer(params: list[nn.Parameter], train: TrainSection) -> torch.optim.Optimizer:
    """The configured optimiser over ``params``."""
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[train.optimizer]
    return cls(params, lr=train.lr, betas=train.betas, weight_decay=train.weight_decay)


def lr_factor(step: int, train: TrainSection) -> float:
    """Multiplier of ``train.lr`` after ``step`` optimiser steps: linear warm-up, then the schedule."""
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
