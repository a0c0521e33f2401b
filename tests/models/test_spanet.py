"""spanet: structure of the released network, the shared SAM, the direction-weight switch, export."""

from __future__ import annotations

import pytest
import torch

from derain.errors import ConfigError
from derain.models import build_model
from derain.models.spanet import SpaNet

TINY = {"channels": 8}


def _model(**overrides) -> SpaNet:
    torch.manual_seed(0)
    return build_model("spanet", {**TINY, **overrides}).eval()


def test_release_structure_and_parameter_count() -> None:
    model = build_model("spanet")
    assert len(model.blocks) == 17
    assert sum(isinstance(m, type(model.sam)) for m in model.modules()) == 1  # one shared SAM
    assert sum(p.numel() for p in model.parameters()) == 210_084  # docs/methods/spanet.md: vs 0.28 M


def test_any_size_four_attention_maps() -> None:
    model = _model()
    x = torch.rand(2, 3, 13, 21)
    with torch.no_grad():
        out = model(x)
    assert out.background.shape == x.shape
    assert out.background.min() >= 0 and out.background.max() <= 1
    assert len(out.attention) == 4
    att = torch.cat(out.attention, 1)
    assert att.shape == (2, 4, 13, 21) and att.min() > 0 and att.max() < 1


def test_gates_come_from_the_shared_sam() -> None:
    """A constant SAM output of 0 turns blocks 4-15 off: the result equals a net without them."""
    model = _model()
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        model.sam.conv_out.weight.zero_()  # sigmoid(0) = 0.5 everywhere
        half = model(x).background
        model.sam.conv_out.weight.fill_(-1e4)  # attention -> 0 (features after ReLU are >= 0)
        off = model(x).background
        feat = model.conv_in(x)
        for i, block in enumerate(model.blocks):
            feat = torch.relu(feat) if 3 <= i <= 14 else block(feat)  # gated branch is zero: ReLU(0 + feat)
    assert not torch.allclose(half, off)
    torch.testing.assert_close(off, model.conv_out(feat).clamp(0, 1))


def test_direction_weights_take_effect_unless_release_noop() -> None:
    x = torch.rand(1, 3, 12, 12)
    for noop, should_change in ((False, True), (True, False)):
        model = _model(release_noop_direction_weights=noop)
        with torch.no_grad():
            before = torch.cat(model(x).attention, 1)
            model.sam.direction[-2].bias.fill_(-5.0)  # direction weights -> ~0.007
            after = torch.cat(model(x).attention, 1)
        assert (not torch.allclose(before, after)) is should_change


def test_residual_switch() -> None:
    model = _model(residual=True)
    with torch.no_grad():
        model.conv_out.weight.zero_()
        x = torch.rand(1, 3, 9, 9)
        torch.testing.assert_close(model(x).background, x)


def test_config_rejects_too_few_blocks() -> None:
    with pytest.raises(ConfigError, match=r"spanet\.blocks"):
        build_model("spanet", {"blocks": 10})


@pytest.mark.slow
def test_onnx_export_matches_pytorch(tmp_path) -> None:
    """Export is fixed at the example size (the IRNN loops over the side) and matches within 1e-4."""
    ort = pytest.importorskip("onnxruntime")
    from derain.export import export_model

    model = _model(channels=2)
    result = export_model(model, tmp_path / "s.onnx", format="onnx", size=(6, 7), model_name="spanet")
    assert not result.dynamic
    session = ort.InferenceSession(str(result.path))
    x = torch.rand(1, 3, 6, 7)
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), model(x).background, rtol=0, atol=1e-4)


def test_inspect_writes_attention_and_direction_weights(tmp_path) -> None:
    import json

    from tests.conftest import run_cli, smooth_image

    from derain.checkpoint import save_weights
    from derain.data.io import write_image

    weights = save_weights(_model(), tmp_path / "s.safetensors", model_name="spanet", config=TINY)
    write_image(tmp_path / "in.png", smooth_image(20, 28))
    done = run_cli("inspect", "spanet", tmp_path / "in.png", "--weights", weights, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {f"attention_{k}.png" for k in range(1, 5)} | {f"directions_{k}.png" for k in range(1, 5)} <= names
    means = json.loads((tmp_path / "out" / "direction_weights.json").read_text())
    assert set(means["sam_call_1"]) == {"up", "right", "down", "left"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_forward_and_gradients_match_cpu() -> None:
    torch.manual_seed(0)
    model = _model().double()
    x = torch.rand(1, 3, 24, 32, dtype=torch.float64)
    results = []
    for device in ("cpu", "cuda"):
        net, xd = model.to(device), x.detach().to(device).requires_grad_()
        out = net(xd)
        out.background.square().sum().backward()
        results.append((out.background.detach().cpu(), xd.grad.cpu()))
    for cpu, gpu in zip(*results, strict=True):
        torch.testing.assert_close(gpu, cpu, rtol=1e-6, atol=1e-8)
