"""IRNN: the fast scan against a per-pixel reference, gradients, directions, devices (export: test_spanet)."""

from __future__ import annotations

import pytest
import torch

from derain.layers.irnn import DIRECTIONS, IRNN, irnn_scan


def reference(x: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor, direction: str) -> torch.Tensor:
    """Straightforward per-pixel loops of eq. 5 for one direction (release conventions)."""
    b_, c_, h_, w_ = x.shape
    out = torch.zeros_like(x)
    for b in range(b_):
        for c in range(c_):
            a, bb = float(alpha[c].detach()), float(bias[c].detach())
            if direction in ("up", "down"):
                order = range(h_ - 1, -1, -1) if direction == "up" else range(h_)
                for col in range(w_):
                    prev = None
                    for r in order:
                        v = x[b, c, r, col] if prev is None else a * prev + bb + x[b, c, r, col]
                        prev = max(float(v), 0.0)
                        out[b, c, r, col] = prev
            else:
                order = range(w_ - 1, -1, -1) if direction == "left" else range(w_)
                for r in range(h_):
                    prev = None
                    for col in order:
                        v = x[b, c, r, col] if prev is None else a * prev + bb + x[b, c, r, col]
                        prev = max(float(v), 0.0)
                        out[b, c, r, col] = prev
    return out


def _layer(channels: int, seed: int = 0, dtype=torch.float32) -> IRNN:
    torch.manual_seed(seed)
    layer = IRNN(channels).to(dtype)
    with torch.no_grad():  # distinct, partly negative weights so every direction and sign is exercised
        layer.weight.copy_(torch.rand(4, channels) * 1.6 - 0.4)
        layer.bias.copy_(torch.randn(4, channels) * 0.3)
    return layer


def test_init_is_release_values() -> None:
    layer = IRNN(8)
    assert torch.all(layer.weight == 0.2) and torch.all(layer.bias == 0)


def test_matches_reference_every_direction() -> None:
    layer = _layer(3)
    x = torch.randn(2, 3, 5, 7)
    with torch.no_grad():
        out = layer(x)
    assert out.shape == (2, 4, 3, 5, 7)
    for k, name in enumerate(DIRECTIONS):
        expected = reference(x, layer.weight[k], layer.bias[k], name)
        torch.testing.assert_close(out[:, k], expected, rtol=1e-5, atol=1e-5, msg=name)


def test_directions_see_the_right_side() -> None:
    """An impulse at the centre reaches only the pixels downstream of it in each direction."""
    layer = IRNN(1)
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    with torch.no_grad():
        out = layer(x)[0, :, 0]
    reached = {name: {tuple(p) for p in (out[k] > 0).nonzero().tolist()} for k, name in enumerate(DIRECTIONS)}
    assert reached["down"] == {(r, 2) for r in range(2, 5)}
    assert reached["up"] == {(r, 2) for r in range(0, 3)}
    assert reached["right"] == {(2, c) for c in range(2, 5)}
    assert reached["left"] == {(2, c) for c in range(0, 3)}
    torch.testing.assert_close(out[DIRECTIONS.index("right"), 2, 4], torch.tensor(0.04))  # alpha^2 two pixels on


def test_gradcheck_float64() -> None:
    layer = _layer(2, seed=1, dtype=torch.float64)
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    params = (layer.weight.detach().clone().requires_grad_(), layer.bias.detach().clone().requires_grad_())

    def apply(t: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (t,))

    assert torch.autograd.gradcheck(apply, (x, *params))


def test_scan_gradients_match_autograd_loop() -> None:
    """The hand-written backward equals autograd through an explicit loop (larger map, float64)."""
    torch.manual_seed(2)
    z = torch.randn(30, 3, 4, dtype=torch.float64, requires_grad=True)
    alpha = (torch.rand(1, 4, dtype=torch.float64) * 1.4 - 0.2).requires_grad_()
    bias = (torch.randn(1, 4, dtype=torch.float64) * 0.2).requires_grad_()
    g = torch.randn(30, 3, 4, dtype=torch.float64)
    fast = torch.autograd.grad((irnn_scan(z, alpha, bias) * g).sum(), (z, alpha, bias))
    h = [torch.relu(z[0])]
    for i in range(1, 30):
        h.append(torch.relu(alpha * h[-1] + bias + z[i]))
    slow = torch.autograd.grad((torch.stack(h) * g).sum(), (z, alpha, bias))
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b)


def test_no_grad_path_equals_grad_path() -> None:
    layer = _layer(4)
    x = torch.randn(1, 4, 6, 9)
    with torch.no_grad():
        plain = layer(x)
    tracked = layer(x.requires_grad_())
    torch.testing.assert_close(plain, tracked.detach(), rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_matches_cpu() -> None:
    layer = _layer(3)
    x = torch.randn(1, 3, 8, 11)
    cpu = layer(x.requires_grad_())
    cpu.square().sum().backward()
    gpu_layer = _layer(3).cuda()
    xg = x.detach().cuda().requires_grad_()
    gpu = gpu_layer(xg)
    gpu.square().sum().backward()
    torch.testing.assert_close(gpu.cpu(), cpu.detach(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(xg.grad.cpu(), x.grad, rtol=1e-4, atol=1e-5)
