"""A frozen teacher: a trained derainer whose outputs are an extra training target (distillation).

Why: php's 45 k parameters trade light-rain fidelity against heavy-rain structure whenever heavy
rain's ground truth enters the loss (docs/methods/php.md). A stronger model's output on the same
rainy crop is a target the small network can come closer to, and it already carries the larger
model's balance between the two. A teacher equal to a run's own starting weights instead anchors a
continuation to what it already does (learning without forgetting), the function-space counterpart
of averaging with the start (docs/quality.md).

The teacher is deliberately *not* a submodule of the objective: it is never optimised, never written
into checkpoints and never synchronised by DDP. A resumed run reloads it from the same spec, so a
spec naming bundled weights must not change between a run and its resume (the manifest's sha256
pins each bundled file).
"""

from __future__ import annotations

import torch

from derain.errors import ConfigError, ModelError
from derain.models.base import DerainModel, pad_to_multiple
from derain.train.warmstart import resolve_weights

__all__ = ["Teacher", "optional_teacher"]


class Teacher:
    """Run a frozen model on training inputs; its ``background`` is the distillation target.

    Args:
        spec: ``bundled:NAME`` (a registered model's bundled weights) or a ``.safetensors`` file.
        key: config key named in errors.

    Raises:
        ConfigError: a spec that names no weights, an unreadable file, or a video model (which needs
            a recurrent state that single crops do not have).
    """

    def __init__(self, spec: str, key: str = "objective.options.teacher") -> None:
        from derain.checkpoint import build_from_file

        try:
            self.name, model = build_from_file(resolve_weights(spec, None, key))
        except ModelError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        if model.is_video:
            raise ConfigError(f"{key}: {self.name!r} is a video model; a teacher derains single images")
        self.spec = spec
        self.model: DerainModel = model.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, rain: torch.Tensor) -> torch.Tensor:
        """The teacher's derained ``rain`` ``(B, 3, H, W)``, in [0, 1], on ``rain``'s device."""
        first = next(self.model.parameters())
        if first.device != rain.device:
            self.model.to(rain.device)
        padded, (h, w) = pad_to_multiple(rain.float(), self.model.size_divisor)
        return self.model(padded).background[..., :h, :w].clamp(0.0, 1.0)


def optional_teacher(spec: str, weight: float, weight_name: str) -> Teacher | None:
    """The teacher an objective's options ask for: none when ``spec`` is empty.

    Raises:
        ConfigError: a teacher without a positive weight, or a weight without a teacher.
    """
    if not spec:
        if weight:
            raise ConfigError(f"objective.options.{weight_name}: set objective.options.teacher too")
        return None
    if not weight:
        raise ConfigError(f"objective.options.teacher: give it a weight (objective.options.{weight_name} > 0)")
    return Teacher(spec)
