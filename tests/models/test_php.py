"""php network: contrast-aware pooling, the PHP block (shapes, dilations, aggregation), the two sub-networks."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from derain.checkpoint import save_weights
from derain.errors import ConfigError
from derain.layers.pyramid import ContrastAwarePooling, PHPBlock
from derain.models import MODELS, build_model
from derain.models.php import block_dilations
from derain.train.config import ModelSection
from derain.train.warmstart import initial_model

TINY_PHP = {"width": 8, "blocks": 2, "refine_width": 4, "refine_blocks": 1}


def _local_contrast_pooling() -> ContrastAwarePooling:
    """f_d1 = identity, f_d2 = mean of the 3x3 dilated neighbourhood: C_a = sigmoid(Y - local mean)."""
    pool = ContrastAwarePooling(3, 2)
    with torch.no_grad():
        pool.f_d1.weight.zero_()
        pool.f_d1.bias.zero_()
        pool.f_d2.weight.zero_()
        pool.f_d2.bias.zero_()
        for c in range(3):
            pool.f_d1.weight[c, c] = 1.0
            pool.f_d2.weight[c, c] = 1.0 / 9.0
    return pool


def test_contrast_attention_marks_bright_streak_pixels():
    pool = _local_contrast_pooling()
    y = torch.full((1, 3, 16, 16), 0.2)
    y[..., 4:12, 8] = 1.0  # a bright vertical streak on a flat background
    c_a = pool.attention(y)
    assert c_a.shape == y.shape
    assert torch.allclose(c_a[..., 0, 0], torch.tensor(0.5))  # flat background: no contrast
    assert (c_a[..., 6, 8] > 0.6).all()  # the streak stands out
    out = pool(y)
    assert out.shape == (1, 3, 8, 8)
    # The masked input keeps background pixels at half weight and suppresses the streak more.
    masked = (1 - c_a) * y
    assert (masked[..., 6, 8] / y[..., 6, 8] < masked[..., 0, 0] / y[..., 0, 0]).all()
    assert torch.allclose(out, F.avg_pool2d(masked, 2))


def test_max_pooling_variant_is_plain_max_pool():
    pool = ContrastAwarePooling(3, 4, "max")
    y = torch.rand(2, 3, 16, 12)
    assert torch.equal(pool(y), F.max_pool2d(y, 4))
    with pytest.raises(ValueError, match="kind"):
        ContrastAwarePooling(3, 4, "none")


def test_php_block_shapes_and_dilations():
    block = PHPBlock(16, (2, 4, 6, 8))
    assert [conv.dilation for conv in block.branches] == [(2, 2), (4, 4), (6, 6), (8, 8)]
    assert all(conv.out_channels == 4 and conv.kernel_size == (3, 3) for conv in block.branches)
    x = torch.rand(2, 16, 13, 11)
    assert block(x).shape == x.shape
    with pytest.raises(ValueError, match="multiple"):
        PHPBlock(10, (1, 2, 3, 4))
    with pytest.raises(ValueError, match="ascending"):
        PHPBlock(8, (2, 1))


def _only_first_branch_fires(block: PHPBlock) -> None:
    """Zero every branch, give the smallest-dilation branch a bias of 1, zero the re-weighting's T."""
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
        block.branches[0].bias.fill_(1.0)


def test_php_block_aggregates_top_down_and_reweights():
    block = PHPBlock(8, (1, 2, 3, 4))
    _only_first_branch_fires(block)
    x = torch.zeros(1, 8, 5, 5)
    # p_i = b_i + p_{i-1}: the first branch's response reaches every larger receptive field;
    # T(f) = SELU(0) = 0 so sigmoid = 0.5 re-weights everything by a half.
    assert torch.allclose(block(x), torch.full_like(x, 0.5))


def test_php_block_plain_concatenation_does_not_aggregate():
    block = PHPBlock(8, (1, 2, 3, 4), aggregate=False)
    assert block.reweight is None
    _only_first_branch_fires(block)
    out = block(torch.zeros(1, 8, 5, 5))
    assert torch.allclose(out[:, :2], torch.ones(1, 2, 5, 5))
    assert torch.allclose(out[:, 2:], torch.zeros(1, 6, 5, 5))


def test_php_block_layer_scale_multiplies_the_residual_per_channel():
    assert PHPBlock(8, (1, 2, 3, 4)).scale is None  # off by default: the paper's block, old weight files load
    block = PHPBlock(8, (1, 2, 3, 4), layer_scale=True)
    assert torch.equal(block.scale, torch.ones(1, 8, 1, 1))  # initialised to 1: the plain block
    _only_first_branch_fires(block)  # (zeroes the scale too)
    x = torch.zeros(1, 8, 5, 5)
    assert torch.equal(block(x), x)  # scale 0: the identity
    with torch.no_grad():
        block.scale.copy_(torch.arange(8.0).view(1, 8, 1, 1))
    assert torch.allclose(block(x), 0.5 * torch.arange(8.0).view(1, 8, 1, 1).expand_as(x))


def test_hierarchy_grows_dilation_with_depth():
    assert [block_dilations("php", b, 4) for b in range(3)] == [(1, 2, 3, 4), (2, 4, 6, 8), (3, 6, 9, 12)]
    assert [block_dilations("parallel", b, 4) for b in range(3)] == [(1, 2, 3, 4)] * 3
    assert [block_dilations("hierarchical", b, 4) for b in range(3)] == [(4,), (8,), (12,)]
    assert block_dilations("concat", 1, 4) == (2, 4, 6, 8)
    model = build_model("php", TINY_PHP)
    assert [blk.dilations for blk in model.structure.blocks] == [(1, 2, 3, 4), (2, 4, 6, 8)]


def test_php_net_two_subnetworks_any_size():
    model = build_model("php", TINY_PHP)
    assert MODELS.get("php").config.branches == 4
    assert model.size_divisor == 4
    x = torch.rand(2, 3, 30, 21)  # not a multiple of 4: padded and cropped back inside
    out = model(x)
    assert out.background.shape == x.shape and out.coarse.shape == x.shape
    assert out.background.min() >= 0 and out.background.max() <= 1
    assert torch.allclose((x - out.rain).clamp(0, 1), out.background, atol=1e-6)  # rain = Y - X before clipping
    assert torch.allclose(out.background, x) and torch.allclose(out.coarse, x)  # zero-initialised heads
    out.background.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_only_the_last_convolutions_are_1x1():
    model = build_model("php", TINY_PHP)
    for name, conv in model.named_modules():
        if isinstance(conv, torch.nn.Conv2d):
            expected = (1, 1) if name.endswith("head") or name.endswith("f_d1") else (3, 3)
            assert conv.kernel_size == expected, name


@pytest.mark.parametrize("pyramid", ["php", "parallel", "hierarchical", "concat"])
@pytest.mark.parametrize("pooling", ["contrast", "max", "none"])
def test_table_iv_variants_build_and_run(pyramid, pooling):
    model = build_model("php", {**TINY_PHP, "pyramid": pyramid, "pooling": pooling})
    assert (model.structure.pool is None) == (pooling == "none")
    assert model(torch.rand(1, 3, 16, 16)).background.shape == (1, 3, 16, 16)


def _gated_model_with_a_working_first_subnetwork() -> torch.nn.Module:
    model = build_model("php", {**TINY_PHP, "detail_gate": True})
    torch.manual_seed(0)
    torch.nn.init.normal_(model.structure.head.weight, std=0.5)  # X^c differs from Y
    return model


def test_detail_gate_starts_closed_and_is_trainable():
    model = _gated_model_with_a_working_first_subnetwork()
    x = torch.rand(1, 3, 24, 20)
    out = model(x)
    assert (out.coarse - x).abs().max() > 0.05
    assert torch.allclose(out.background, out.coarse.clamp(0, 1), atol=1e-6)  # zero gate: X = X^c
    out.background.mean().backward()
    assert model.gate.weight.grad.abs().sum() > 0


def test_open_detail_gate_passes_the_inputs_high_frequencies():
    model = _gated_model_with_a_working_first_subnetwork()
    with torch.no_grad():
        model.gate.bias.fill_(1.0)  # g = 1 everywhere: X = X^c + (Y - X^c) = Y
    x = torch.rand(1, 3, 22, 20)  # padded to 24 x 20 inside; the map comes back at 22 x 20
    out = model(x)
    assert (out.coarse - x).abs().max() > 0.05
    assert torch.allclose(out.background, x, atol=1e-6)
    assert torch.equal(model.gate_map(x), torch.ones_like(x))
    with pytest.raises(ValueError, match="no detail gate"):
        build_model("php", TINY_PHP).gate_map(x)
    with torch.no_grad():
        model.gate.bias.view(3, -1)[1:].zero_()  # pixel-shuffle groups: channel 0 open, 1 and 2 closed
    out = model(x)
    assert torch.allclose(out.background[:, 0], x[:, 0], atol=1e-6)
    assert torch.allclose(out.background[:, 1:], out.coarse[:, 1:].clamp(0, 1), atol=1e-6)


def test_gated_model_grown_from_gateless_weights_computes_what_they_did(tmp_path):
    old = build_model("php", TINY_PHP)
    torch.manual_seed(1)
    for head in (old.structure.head, old.detail.head):
        torch.nn.init.normal_(head.weight, std=0.3)
    save_weights(old, tmp_path / "php.safetensors", model_name="php", config=TINY_PHP)
    section = ModelSection(
        name="php",
        config={**TINY_PHP, "detail_gate": True},
        init=str(tmp_path / "php.safetensors"),
        init_map={"structure": "structure", "detail": "detail"},
    )
    grown = initial_model(section)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert (old(x).background - x).abs().max() > 0.05
        assert torch.allclose(grown(x).background, old(x).background, atol=1e-6)


def test_gate_refinement_grown_from_gated_weights_computes_what_they_did_and_learns(tmp_path):
    old = _gated_model_with_a_working_first_subnetwork()
    with torch.no_grad():
        old.gate.bias.fill_(0.5)
    gated = {**TINY_PHP, "detail_gate": True}
    save_weights(old, tmp_path / "php.safetensors", model_name="php", config=gated)
    section = ModelSection(
        name="php",
        config={**gated, "gate_refine": 4},
        init=str(tmp_path / "php.safetensors"),
        init_map={"structure": "structure", "detail": "detail", "gate": "gate"},
    )
    grown = initial_model(section)
    x = torch.rand(1, 3, 18, 22)
    assert torch.allclose(grown(x).background, old(x).background, atol=1e-6)
    grown(x).background.mean().backward()
    assert grown.gate_refine[-1].weight.grad.abs().sum() > 0  # the zero start still learns
    with torch.no_grad():
        grown.gate_refine[-1].bias.fill_(0.25)  # the correction reaches the gate at full resolution
    assert torch.allclose(grown.gate_map(x), old.gate_map(x) + 0.25, atol=1e-6)


def test_gate_refinement_needs_the_detail_gate():
    with pytest.raises(ConfigError, match=r"gate_refine: needs detail_gate"):
        build_model("php", {**TINY_PHP, "gate_refine": 4})
