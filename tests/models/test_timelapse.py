"""Tests for the ``timelapse`` deraining network (Cho et al. 2020)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from derain.checkpoint import read_manifest
from derain.errors import ConfigError
from derain.layers.upsample import BilinearUpsample2x
from derain.models import build_model
from derain.models.timelapse import DynamicFusion, TimelapseConfig, TimelapseNet

TINY = TimelapseConfig(widths=(4, 4, 6), depths=(1, 1, 2), kernels=(1, 3, 5))


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("fusion", ["dynamic", "concat", "sum", "product"])
@pytest.mark.parametrize("in_channels", [3, 1])
def test_odd_size_shapes_and_clipping(fusion: str, in_channels: int) -> None:
    torch.manual_seed(0)
    model = TimelapseNet(dataclasses.replace(TINY, fusion=fusion, in_channels=in_channels))
    x = torch.rand(1, 3, 37, 53)
    out = model(x)
    assert out.background.shape == out.rain.shape == x.shape
    torch.testing.assert_close(out.background, (x - out.rain).clamp(0, 1))


@pytest.mark.parametrize(
    ("overrides", "key"),
    [({"fusion": "max"}, "fusion"), ({"in_channels": 2}, "in_channels"), ({"kernels": (3, 4)}, "kernels")],
)
def test_bad_config_raises_naming_the_key(overrides: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        build_model("timelapse", overrides)


def test_dynamic_fusion_is_a_per_position_filter() -> None:
    torch.manual_seed(0)
    fusion = DynamicFusion(6, 2)
    feats = torch.randn(2, 6, 3, 4)
    out = fusion(feats)
    b, y, x = 1, 2, 3
    matrix = fusion.generator(feats)[b, :, y, x].view(2, 6)
    torch.testing.assert_close(out[b, :, y, x], matrix @ feats[b, :, y, x] / 6**0.5)


def test_bilinear_upsample_is_frozen_and_bilinear() -> None:
    up = BilinearUpsample2x(2)
    assert list(up.parameters()) == [] and up.state_dict() == {}
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 2, 3, 4)
    out = up(ramp)
    assert out.shape == (1, 2, 6, 8)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0, 0.5, 1, 1.5, 2, 2.5, 3, 3]))
    torch.testing.assert_close(up(torch.full((1, 2, 3, 5), 0.7)), torch.full((1, 2, 6, 10), 0.7))


def test_decoder_upsamplers_do_not_train() -> None:
    torch.manual_seed(0)
    model = TimelapseNet(TINY)
    kernels = [up.kernel.clone() for up in model.ups]
    trained = {id(p) for p in model.parameters()}
    assert not any(id(p) in trained for up in model.ups for p in up.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    model(torch.rand(2, 3, 16, 16)).rain.square().sum().backward()
    opt.step()
    for up, kernel in zip(model.ups, kernels, strict=True):
        assert torch.equal(up.kernel, kernel)


def test_paper_variant_matches_tables() -> None:
    with torch.device("meta"):
        model = build_model("timelapse.paper")
    assert [level[0][0].in_channels for level in model.decoders] == [256, 512, 1024]
    assert model.fuse.op.generator.out_channels == 768 * 256
    assert model.encoders[2].stages[0][0][0].kernel_size == (7, 7)
    assert _params(model) > 150e6


def test_registered_narrow_variant_is_small() -> None:
    manifest = read_manifest()  # the one table of bundled weights
    assert manifest["timelapse"]["file"] == "timelapse.safetensors" and "timelapse.paper" not in manifest
    model = build_model("timelapse")
    assert model.size_divisor == 8
    assert _params(model) * 4 < 5e6


def test_state_dict_round_trip() -> None:
    torch.manual_seed(0)
    a, b = TimelapseNet(TINY), TimelapseNet(TINY)
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 3, 24, 24)
    torch.testing.assert_close(a(x).background, b(x).background)
