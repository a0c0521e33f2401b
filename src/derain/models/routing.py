"""Route each image between a light-rain and a heavy-rain expert by how much rain it holds (derain's addition).

Why: fifty-odd training legs of one ``php`` network traded light-rain fidelity (Rain12) against heavy-rain
structure (Rain100H's SSIM): every recipe that learned to clear dense rain also removed fine bright texture
from light-rain photos (docs/methods/php.md, Training); ``fastnet``'s legs traded Rain100H against SPA's near
streaks the same way (docs/methods/fastnet.md). A density-aware derainer (DID-MDN, Zhang & Patel 2018,
classifies light / medium / heavy rain and conditions on it) sidesteps that trade; here the "classifier" is
the light expert itself, so nothing new is learned:

* **Intensity** ``r``: the mean absolute change, over pixels and RGB channels in [0, 1], that the light
  expert makes to the image at half resolution (a 2x2 average pool, so a quarter of a full pass). Rain is
  what it removes; a rain-free or lightly rained photo is barely changed.
* **Share** ``w = clip((r - low) / (high - low), 0, 1)`` of the heavy expert; ``low`` and ``high`` come from
  held-out rain only (``scripts/route_experts.py``), never from a dev set. ``w = 0`` runs the light expert,
  ``w = 1`` the heavy one: 1.25 passes with the intensity.
* **Inside the ramp**, two ways (:data:`BlendKind`): ``outputs`` runs both experts and mixes their outputs,
  ``(1 - w) light(x) + w heavy(x)`` (2.25 passes); ``weights`` runs once the expert whose weights are
  ``(1 - w) theta_light + w theta_heavy`` (1.25 passes). Mixing weights is meaningful only when the heavy
  expert was continued from the light one, so both sit in one basin (WiSE-FT, Wortsman et al. 2022).
* An exporter records one graph for every input, so under tracing or ``torch.export`` the mix always runs,
  whatever the share (the same output; ``outputs`` then costs 2.25 passes everywhere).

A model opts in by subclassing :class:`RoutableModel` and its config :class:`RouteConfig` (``php``,
``fastnet``); ``route_high`` 0, the default, is one network. The weight is per image: a routed model declares
a global tiling policy, so the engine runs a photo untiled within its memory budget and routes it as a whole;
an image too large for the budget is cut into strips, and each strip is routed on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch.nn import functional as F

from derain.errors import ConfigError, ModelError
from derain.models.base import DerainModel, ModelOutput
from derain.schema import NonNegativeFloat, require

__all__ = [
    "BlendKind",
    "Expert",
    "RoutableModel",
    "RouteConfig",
    "blend_outputs",
    "cat_outputs",
    "rain_intensity",
    "route",
    "route_weight",
]

#: One expert's forward pass: rainy images ``(B, 3, H, W)`` -> its output.
Expert = Callable[[torch.Tensor], ModelOutput]
#: How an image inside the ramp is derained (see the module docstring).
BlendKind = Literal["outputs", "weights"]


def rain_intensity(light: Expert, x: torch.Tensor) -> torch.Tensor:
    """``(B,)`` mean absolute change the light expert makes to each image of ``x`` at half resolution."""
    half = F.avg_pool2d(x, 2) if min(x.shape[-2:]) >= 2 else x
    return (half - light(half).background).abs().mean(dim=(1, 2, 3))


def route_weight(intensity: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Share of the heavy expert: 0 up to ``low``, 1 from ``high``, linear in between."""
    return ((intensity - low) / (high - low)).clamp(0.0, 1.0)


#: The fields every expert returns, which routing combines.
_FIELDS = ("background", "rain", "coarse")


def _combine(outputs: list[ModelOutput], join: Callable[[list[torch.Tensor]], torch.Tensor]) -> ModelOutput:
    """One output: each field of :data:`_FIELDS` is ``join`` of that field of ``outputs`` (None if one lacks it)."""
    fields = {}
    for name in _FIELDS:
        parts = [getattr(o, name) for o in outputs]
        fields[name] = None if any(p is None for p in parts) else join(parts)
    return ModelOutput(**fields)


def blend_outputs(light: ModelOutput, heavy: ModelOutput, weight: torch.Tensor) -> ModelOutput:
    """``(1 - w) light + w heavy`` per image, for the fields both experts return (background, rain, coarse)."""
    w = weight.view(-1, 1, 1, 1).to(light.background.dtype)
    return _combine([light, heavy], lambda pair: pair[0] + w * (pair[1] - pair[0]))


def cat_outputs(outputs: list[ModelOutput]) -> ModelOutput:
    """One batch from per-image outputs (background, rain, coarse)."""
    return _combine(outputs, torch.cat)


def route(
    x: torch.Tensor,
    light: Expert,
    heavy: Expert,
    low: float,
    high: float,
    mixed: Callable[[torch.Tensor], Expert] | None = None,
) -> ModelOutput:
    """Derain ``x`` with the two experts, by each image's rain intensity (see the module docstring).

    ``mixed(w)``, when given, is the expert with weights mixed at share ``w`` (a 0-d tensor): images inside
    the ramp run it once (``weights``); without it they mix both experts' outputs (``outputs``).
    """
    weight = route_weight(rain_intensity(light, x), low, high)
    if torch.jit.is_tracing() or torch.compiler.is_exporting():  # one graph for every share
        if mixed is None:
            return blend_outputs(light(x), heavy(x), weight)
        return cat_outputs([mixed(w)(x[i : i + 1]) for i, w in enumerate(weight)])
    if not bool((weight > 0).any()):
        return light(x)
    if bool((weight == 1).all()):
        return heavy(x)
    if mixed is None:
        return blend_outputs(light(x), heavy(x), weight)
    experts = [light if w == 0 else heavy if w == 1 else mixed(w) for w in weight]
    return cat_outputs([expert(x[i : i + 1]) for i, expert in enumerate(experts)])  # slices keep the memory format


@dataclass(frozen=True)
class RouteConfig:
    """The routing fields a routable model's config inherits (derain's addition; off by default).

    Attributes:
        route_low, route_high: rain intensities (:func:`rain_intensity`) between which a second expert of
            the same architecture, trained on heavier rain, takes over per image (``route_high`` 0: one
            network). Inference only.
        route_blend: inside the ramp, mix the experts' ``outputs`` or run once with their ``weights`` mixed.
    """

    route_low: NonNegativeFloat = 0.0
    route_high: NonNegativeFloat = 0.0
    route_blend: BlendKind = "outputs"

    def __post_init__(self) -> None:
        """A route is a ramp (the parser adds ``model.config.``)."""
        require(not self.route_high or self.route_high > self.route_low, "route_high", "must exceed route_low")


class RoutableModel(DerainModel):
    """A single-image model that may hold a heavy-rain expert of its own architecture, ``heavy``.

    Subclasses keep their config (a :class:`RouteConfig`) in ``config``, implement :meth:`expert` (their
    own pass) and call :meth:`add_heavy_expert` at the end of ``__init__``.
    """

    config: RouteConfig
    heavy: RoutableModel | None

    def add_heavy_expert(self) -> None:
        """Build ``heavy`` (same config, unrouted) when ``config.route_high`` is set, else None."""
        routed = bool(self.config.route_high)
        self.heavy = type(self)(replace(self.config, route_low=0.0, route_high=0.0)) if routed else None

    def expert(self, x: torch.Tensor) -> ModelOutput:  # pragma: no cover - abstract
        """This network's own pass, without routing (the light expert of a routed model)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> ModelOutput:
        if self.heavy is None:
            return self.expert(x)
        if self.training:
            raise ConfigError(
                "model.config.route_high: a routed model is inference-only; train each expert alone "
                "and join them with scripts/route_experts.py"
            )
        mixed = self.mixed_expert if self.config.route_blend == "weights" else None
        return route(x, self.expert, self.heavy, self.config.route_low, self.config.route_high, mixed)

    def mixed_expert(self, share: torch.Tensor) -> Expert:
        """One pass of the expert with weights ``(1 - share)`` this network's plus ``share`` the heavy expert's."""
        assert self.heavy is not None
        if torch.jit.is_tracing():
            raise ModelError(
                "TorchScript cannot trace a routed model that mixes weights (route_blend: weights); use ONNX"
            )
        own = dict(self.named_parameters())
        weights = {name: own[name] + share * (heavy - own[name]) for name, heavy in self.heavy.named_parameters()}
        return lambda x: torch.func.functional_call(self.heavy, weights, (x,))
