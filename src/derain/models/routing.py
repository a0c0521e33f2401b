"""Route each image between a light-rain and a heavy-rain expert by how much rain it holds (derain's addition).

Why: fifty-odd training legs of one ``php`` network traded light-rain fidelity (Rain12) against heavy-rain
structure (Rain100H's SSIM): every recipe that learned to clear dense rain also removed fine bright texture
from light-rain photos (docs/methods/php.md, Training). A density-aware derainer (DID-MDN, Zhang & Patel
2018, classifies light / medium / heavy rain and conditions on it) sidesteps that trade; here the
"classifier" is the light expert itself, so nothing new is learned:

* **Intensity** ``r``: the mean absolute change, over pixels and RGB channels in [0, 1], that the light
  expert makes to the image at half resolution (a 2x2 average pool, so a quarter of a full pass). Rain is
  what it removes; a rain-free or lightly rained photo is barely changed.
* **Weight** ``w = clip((r - low) / (high - low), 0, 1)``; the output is ``(1 - w) light(x) + w heavy(x)``.
  ``low`` and ``high`` come from held-out rain only (``scripts/php_route.py``), never from a dev set.
* Only the experts with a nonzero weight run at full resolution, so a light or a heavy image costs 1.25
  passes and only images inside the ramp cost 2.25. An exporter records one graph for every input, so
  under tracing or ``torch.export`` both experts always run and blend (the same output, the blend's cost).

The weight is per image: the engine runs ``php`` untiled within its memory budget, so a photo is routed as
a whole; an image too large for the budget is cut into strips, and each strip is routed on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from derain.models.base import ModelOutput

__all__ = ["Expert", "blend_outputs", "rain_intensity", "route", "route_weight"]

#: One expert's forward pass: rainy images ``(B, 3, H, W)`` -> its output.
Expert = Callable[[torch.Tensor], ModelOutput]


def rain_intensity(light: Expert, x: torch.Tensor) -> torch.Tensor:
    """``(B,)`` mean absolute change the light expert makes to each image of ``x`` at half resolution."""
    half = F.avg_pool2d(x, 2) if min(x.shape[-2:]) >= 2 else x
    return (half - light(half).background).abs().mean(dim=(1, 2, 3))


def route_weight(intensity: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Share of the heavy expert: 0 up to ``low``, 1 from ``high``, linear in between."""
    return ((intensity - low) / (high - low)).clamp(0.0, 1.0)


def blend_outputs(light: ModelOutput, heavy: ModelOutput, weight: torch.Tensor) -> ModelOutput:
    """``(1 - w) light + w heavy`` per image, for the fields both experts return (background, rain, coarse)."""
    w = weight.view(-1, 1, 1, 1).to(light.background.dtype)

    def mix(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
        return None if a is None or b is None else a + w * (b - a)

    background = mix(light.background, heavy.background)
    assert background is not None  # both experts always return one
    return ModelOutput(background=background, rain=mix(light.rain, heavy.rain), coarse=mix(light.coarse, heavy.coarse))


def route(x: torch.Tensor, light: Expert, heavy: Expert, low: float, high: float) -> ModelOutput:
    """Derain ``x`` with the two experts, weighted per image by its rain intensity (see the module docstring)."""
    weight = route_weight(rain_intensity(light, x), low, high)
    if torch.jit.is_tracing() or torch.compiler.is_exporting():  # one graph for every weight
        return blend_outputs(light(x), heavy(x), weight)
    if not bool((weight > 0).any()):
        return light(x)
    if bool((weight == 1).all()):
        return heavy(x)
    return blend_outputs(light(x), heavy(x), weight)
