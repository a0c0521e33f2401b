"""Tests of the ``j4r`` model: GRU gates by hand, state carried vs reset, causality, colour modes."""

from __future__ import annotations

import math

import pytest
import torch

from derain.models import build_model
from derain.models.j4r import ConvGRUCell, J4RConfig, J4RDerainer


def _small(**kw: object) -> J4RDerainer:
    """A tiny model whose JRC-Net head is random (a fresh model's is zero: it starts at the identity)."""
    torch.manual_seed(0)
    model = J4RDerainer(J4RConfig(channels=4, blocks=1, **kw)).eval()
    torch.nn.init.normal_(model.jrcnet.head.weight, std=0.1)
    return model


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_gru_gates_on_hand_checked_tensors() -> None:
    cell = ConvGRUCell(1, 1, 1, kernel=1)
    with torch.no_grad():
        cell.w.weight.copy_(torch.tensor([1.0, 2.0, 0.5]).view(3, 1, 1, 1))  # W_z, W_r, W_h
        cell.w.bias.zero_()
        cell.u.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))  # U_z, U_r
        cell.v.weight.copy_(torch.tensor([0.5, 1.0]).view(2, 1, 1, 1))  # V_z, V_r
        cell.u_h.weight.fill_(2.0)  # U_h
    x = torch.full((1, 1, 1, 2), 0.4)
    h = torch.full((1, 1, 1, 2), 0.3)
    d = torch.tensor([1.0, -2.0]).view(1, 1, 1, 2)
    out = cell(x, h, d).flatten().tolist()
    # pixel 0: z = sig(0.4 + 0.3 + 0.5); r = relu(0.8 - 0.3 + 1) = 1.5; h~ = tanh(0.2 + 2 * 1.5 * 0.3)
    z0 = _sigmoid(1.2)
    expected0 = (1 - z0) * 0.3 + z0 * math.tanh(1.1)
    # pixel 1: r = relu(0.8 - 0.3 - 2) = 0 -> the memory is not read: h~ = tanh(0.2)
    z1 = _sigmoid(0.4 + 0.3 - 1.0)
    expected1 = (1 - z1) * 0.3 + z1 * math.tanh(0.2)
    assert out == pytest.approx([expected0, expected1], abs=1e-6)


def test_state_is_carried_and_reset() -> None:
    model = _small()
    frames = torch.rand(3, 1, 3, 12, 10)
    with torch.no_grad():
        _, state = model(frames[0])
        carried, _ = model(frames[1], state)
        fresh, _ = model(frames[1], None)
        again, _ = model(frames[1], None)
    assert not torch.allclose(carried.background, fresh.background)  # the memory changes the output
    assert torch.equal(fresh.background, again.background)  # None restarts: no hidden state in the module


def test_stacked_gru_layers_each_keep_a_memory() -> None:
    model = _small(gru_layers=2)
    with torch.no_grad():
        _, state = model(torch.rand(1, 3, 8, 8))
    assert len(state) == 2 and all(h.shape == (1, 4, 8, 8) for h in state)
    assert not torch.equal(state[0], state[1])


def test_outputs_and_training_heads() -> None:
    model = _small().train()
    x = torch.rand(2, 3, 9, 7)
    out, state = model(x)
    assert out.background.shape == x.shape and out.background.min() >= 0 and out.background.max() <= 1
    assert out.rain.shape == x.shape and out.detail.shape == x.shape
    assert out.alpha.shape == (2, 1, 9, 7)
    out.background.mean().add(out.rain.mean()).add(out.detail.mean()).backward()
    assert model.rnet.head.weight.grad is not None and model.cnet.head.weight.grad is not None
    model.eval()
    with torch.no_grad():
        out, _ = model(x, state)
    assert out.rain is None and out.detail is None  # R/C-Net only train


def test_luminance_mode_keeps_the_input_chroma() -> None:
    model = _small(luminance=True)
    x = torch.rand(1, 3, 10, 10)
    with torch.no_grad():
        out, _ = model(x)
    y = model.to_model_space
    # every channel moved by the same amount: R-Y and B-Y (hence Cb, Cr) unchanged where not clamped
    delta = out.background - x
    inside = (out.background > 0) & (out.background < 1)
    keep = inside.all(dim=1)
    assert torch.allclose((delta[:, 0] - delta[:, 1])[keep], torch.zeros(()), atol=1e-6)
    assert y(x).shape == (1, 1, 10, 10)
    assert model.extractor.stem[0].in_channels == 1


def test_a_fresh_model_is_the_identity() -> None:
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        out, _ = J4RDerainer(J4RConfig(channels=4, blocks=1))(x)
    assert torch.equal(out.background, x)


def test_registered_variants_build() -> None:
    assert build_model("j4r").config.channels == 16
    assert build_model("j4r.paper").config.channels == 64
    with pytest.raises(ValueError, match="one frame"):
        _small()(torch.rand(1, 2, 3, 8, 8))


@pytest.mark.parametrize("blocks", [0, 1])
def test_declared_radius_is_the_first_frames_reach(blocks: int) -> None:
    """An output pixel's gradient reaches exactly ``tiling.radius`` px of the first frame, no further."""
    torch.manual_seed(0)
    model = J4RDerainer(J4RConfig(channels=4, blocks=blocks)).eval()
    torch.nn.init.normal_(model.jrcnet.head.weight, std=0.1)
    r, side = model.tiling.radius, 41
    x = torch.rand(1, 3, side, side, requires_grad=True)
    model(x, None)[0].background[0, :, side // 2, side // 2].sum().backward()
    ys, xs = torch.nonzero(x.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    reach = int(torch.maximum((ys - side // 2).abs(), (xs - side // 2).abs()).max())
    assert reach == r == (8 if blocks == 0 else 12)
