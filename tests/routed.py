"""Tiny routed models whose experts do something known: shared by the routing, export and script tests."""

from __future__ import annotations

import torch

from derain.models import build_model
from derain.models.routing import RoutableModel

#: Tiny architectures of the routable models.
TINY = {
    "php": {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 0, "branches": 2},
    "fastnet": {"width": 4, "enc_blocks": [1, 1], "middle_blocks": 1, "dec_blocks": [1, 1]},
}


def shift(model: torch.nn.Module, name: str, amount: float) -> None:
    """Make ``model`` add ``amount`` to every pixel (before clipping) through its output layer's bias."""
    with torch.no_grad():
        if name == "php":
            model.structure.head.bias.fill_(amount)  # its head starts at zero: the bias is the whole change
        else:
            model.outro[0].weight.zero_()
            model.outro[0].bias.fill_(-amount)  # fastnet predicts the rain layer, subtracted from the input


def routed_model(name: str, low: float, high: float, blend: str = "outputs") -> RoutableModel:
    """Light expert: brightens by 0.2 (clipped); heavy expert: darkens by 0.1. In eval mode."""
    torch.manual_seed(0)
    model = build_model(name, {**TINY[name], "route_low": low, "route_high": high, "route_blend": blend})
    assert isinstance(model, RoutableModel) and model.heavy is not None
    shift(model, name, 0.2)
    shift(model.heavy, name, -0.1)
    return model.eval()
