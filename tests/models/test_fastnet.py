"""Tests for ``fastnet``, the CPU-efficient gated U-Net."""

from __future__ import annotations

import pytest
import torch

from derain.errors import ConfigError
from derain.models import MODELS, build_model
from derain.models.fastnet import FastNet, FastNetConfig

TINY = FastNetConfig(width=4, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1))


@pytest.mark.parametrize("unshuffle", [1, 2, 4])
def test_any_size_gives_a_clipped_residual(unshuffle: int) -> None:
    torch.manual_seed(0)
    model = FastNet(FastNetConfig(**{**TINY.__dict__, "unshuffle": unshuffle}))
    assert model.size_divisor == unshuffle * 4
    x = torch.rand(2, 3, 37, 53)
    out = model(x)
    assert out.background.shape == out.rain.shape == x.shape
    torch.testing.assert_close(out.background, (x - out.rain).clamp(0, 1))


def test_trains_end_to_end() -> None:
    """Every parameter receives a gradient once the zero-initialised block scales have moved."""
    torch.manual_seed(0)
    model = FastNet(TINY)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (model(x).background - y).abs().mean().backward()
        opt.step()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_without_channel_attention_the_receptive_field_is_bounded() -> None:
    """The global pool of NAFNet's channel attention is the only path between far-apart pixels."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 128, 128)
    far = x.clone()
    far[..., -8:, -8:] = 1 - far[..., -8:, -8:]
    for attention, changes in [(True, True), (False, False)]:
        model = FastNet(FastNetConfig(**{**TINY.__dict__, "channel_attention": attention}))
        for p in model.parameters():  # beta/gamma start at 0; open every block
            p.data.add_(0.1 * torch.rand_like(p))
        corner = (model(x).rain - model(far).rain)[..., :8, :8].abs().max()
        assert (corner > 1e-6) == changes


def test_registered_and_bad_config_names_the_key() -> None:
    assert "fastnet" in MODELS.names()
    with pytest.raises(ConfigError, match="dec_blocks"):
        build_model("fastnet", {"enc_blocks": (1, 1), "dec_blocks": (1,)})
    with pytest.raises(ConfigError, match="widht"):
        build_model("fastnet", {"widht": 8})
