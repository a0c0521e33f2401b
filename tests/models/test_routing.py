"""Intensity routing (``derain.models.routing``) in a routed php and fastnet: which expert runs, what comes out."""

from __future__ import annotations

import pytest
import torch

from derain.errors import ConfigError
from derain.models import build_model
from derain.models.base import ModelOutput
from derain.models.routing import RoutableModel, blend_outputs, rain_intensity, route_weight
from routed import TINY, routed_model

MODELS = pytest.mark.parametrize("name", sorted(TINY))


def _routed(low: float, high: float, blend: str = "outputs", name: str = "php") -> RoutableModel:
    return routed_model(name, low, high, blend)


def test_route_weight_is_a_clipped_ramp():
    weight = route_weight(torch.tensor([0.0, 0.1, 0.2, 0.3, 0.5]), 0.1, 0.3)
    assert torch.allclose(weight, torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]))


def test_rain_intensity_is_the_light_experts_mean_change_at_half_resolution():
    seen = []

    def brighten(x: torch.Tensor) -> ModelOutput:
        seen.append(tuple(x.shape))
        return ModelOutput(background=(x + 0.25).clamp(0, 1))

    x = torch.cat([torch.full((1, 3, 8, 12), 0.5), torch.full((1, 3, 8, 12), 0.9)])
    assert torch.allclose(rain_intensity(brighten, x), torch.tensor([0.25, 0.1]))
    assert seen == [(2, 3, 4, 6)]


@MODELS
def test_light_images_never_run_the_heavy_expert_and_heavy_ones_only_it_at_full_size(monkeypatch, name):
    model = _routed(low=0.5, high=0.9, name=name)  # the light expert changes any image by at most 0.2: always light
    monkeypatch.setattr(model.heavy, "forward", lambda x: pytest.fail("heavy expert ran"))
    x = torch.rand(2, 3, 16, 24) * 0.5
    assert torch.equal(model(x).background, model.expert(x).background)

    model = _routed(low=0.01, high=0.02, name=name)  # a change of 0.2 puts every image past the ramp: heavy only
    sizes = []
    light = model.expert
    monkeypatch.setattr(model, "expert", lambda x: sizes.append(x.shape[-1]) or light(x))
    assert torch.equal(model(x).background, model.heavy(x).background)
    assert sizes == [12]  # the light expert ran once, at half width, to measure the rain


def test_images_inside_the_ramp_blend_every_output_of_both_experts():
    model = _routed(low=0.1, high=0.3)
    x = torch.stack([torch.full((3, 16, 24), v) for v in (0.5, 0.9)])  # intensities 0.2 and 0.1
    with torch.no_grad():
        out = model(x)
        light, heavy = model.expert(x), model.heavy(x)
    weight = torch.tensor([0.5, 0.0])
    expected = blend_outputs(light, heavy, weight)
    for field in ("background", "rain", "coarse"):
        assert torch.allclose(getattr(out, field), getattr(expected, field), atol=1e-6), field
    assert torch.allclose(out.background[0], (light.background[0] + heavy.background[0]) / 2, atol=1e-6)
    assert torch.equal(out.background[1], light.background[1])


@MODELS
def test_a_routed_model_is_inference_only_and_its_ramp_must_rise(name):
    model = build_model(name, {**TINY[name], "route_low": 0.1, "route_high": 0.2})
    with pytest.raises(ConfigError, match=r"route_high: a routed model is inference-only"):
        model(torch.rand(1, 3, 16, 16))
    with pytest.raises(ConfigError, match=r"route_high: must exceed route_low"):
        build_model(name, {**TINY[name], "route_low": 0.2, "route_high": 0.1})
    assert build_model(name, TINY[name]).heavy is None  # one network by default (php: the paper's)


def test_a_routed_fastnet_is_routed_whole_by_the_engine():
    """Its share depends on the whole image, so the engine must not cut it into local tiles."""
    assert build_model("fastnet", TINY["fastnet"]).tiling.kind == "local"
    routed = build_model("fastnet", {**TINY["fastnet"], "route_low": 0.1, "route_high": 0.2})
    assert routed.tiling.kind == "global" and routed.heavy.tiling.kind == "local"


@MODELS
def test_weight_blend_runs_one_expert_with_mixed_weights_inside_the_ramp(name):
    model = _routed(low=0.05, high=0.15, blend="weights", name=name)
    with torch.no_grad():
        for param in model.heavy.parameters():  # experts that differ everywhere, as trained ones do
            param.add_(0.05 * torch.randn_like(param))
        reference = build_model(name, TINY[name]).eval()
        x = torch.stack([torch.full((3, 16, 24), v) for v in (0.9, 0.97, 0.5)])  # changes 0.1, 0.03, 0.2
        shares = route_weight(rain_intensity(model.expert, x), 0.05, 0.15)
        out = model(x).background
        light, own = model.expert(x).background, dict(model.named_parameters())
        for i, share in enumerate(shares):
            mixed = {n: own[n] + share * (p - own[n]) for n, p in model.heavy.named_parameters()}
            reference.load_state_dict(mixed)
            expected = reference(x[i : i + 1]).background[0]
            assert torch.allclose(out[i], expected, atol=1e-6), float(share)
            if share == 0:
                assert torch.equal(out[i], light[i])
    assert 0 < float(shares[0]) < 1 and float(shares[1]) == 0 and float(shares[2]) == 1
