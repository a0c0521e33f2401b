"""derain export: ONNX Runtime and TorchScript agree with PyTorch; dynamic vs fixed sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from conftest import run_cli
from derain.checkpoint import build_from_file
from derain.errors import ModelError
from derain.export import export_model
from routed import routed_model


def reference(weights: Path, x: torch.Tensor) -> np.ndarray:
    model = build_from_file(weights)[1].eval()
    with torch.inference_mode():
        return model(x).background.numpy()


def test_onnx_matches_pytorch_at_other_sizes(tmp_path: Path, tiny_weights: Path) -> None:
    out = tmp_path / "m.onnx"
    done = run_cli("export", "baseline", "--weights", tiny_weights, "-o", out, "--size", 32, 32)
    assert done.returncode == 0, done.stderr
    assert "multiples of 2" in done.stdout
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for shape in [(32, 32), (48, 64)]:  # a size other than the example: H/W are dynamic
        x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0))
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        np.testing.assert_allclose(got, reference(tiny_weights, x), atol=1e-4)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta == {"derain_model": "baseline", "size_divisor": "2", "dynamic_hw": "True"}
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, no temp left behind


def test_torchscript_loads_and_matches(tmp_path: Path, tiny_weights: Path) -> None:
    out = tmp_path / "m.pt"
    done = run_cli("export", "baseline", "--weights", tiny_weights, "-o", out, "--size", 32, 32)
    assert done.returncode == 0, done.stderr
    scripted = torch.jit.load(str(out))
    x = torch.rand(1, 3, 40, 24, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        np.testing.assert_allclose(scripted(x).numpy(), reference(tiny_weights, x), atol=1e-4)


def test_odd_size_exports_fixed(tmp_path: Path, tiny_weights: Path) -> None:
    model = build_from_file(tiny_weights)[1]
    result = export_model(model, tmp_path / "fixed.onnx", format="onnx", size=(31, 33))
    assert not result.dynamic
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 31, 33]
    x = torch.rand(1, 3, 31, 33)
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, reference(tiny_weights, x), atol=1e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["memory", "--weights", "{w}", "-o", "m.onnx"], "not 'memory'"),
        (["baseline", "--weights", "{w}", "-o", "m.bin"], "--format"),
        (["baseline", "--weights", "nope.safetensors", "-o", "m.onnx"], "nope.safetensors"),
    ],
)
def test_export_user_errors_are_one_line(tmp_path: Path, tiny_weights: Path, args: list[str], message: str) -> None:
    done = run_cli("export", *(a.format(w=tiny_weights) for a in args))
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "format", "blend"),
    [("php", f, b) for f in ("onnx", "torchscript") for b in ("outputs", "weights")] + [("fastnet", "onnx", "weights")],
)
def test_routed_models_export_every_route(tmp_path: Path, name: str, format: str, blend: str) -> None:
    """An exporter records one graph: it must blend both experts, not bake in the route of its example."""
    model = routed_model(name, 0.05, 0.15, blend)  # the light expert changes a flat image v by min(0.2, 1 - v)
    with torch.no_grad():
        for param in model.heavy.parameters():  # experts that differ everywhere, so mixed weights differ too
            param.add_(0.05 * torch.randn_like(param))
    path = tmp_path / f"routed{'.onnx' if format == 'onnx' else '.pt'}"
    if format == "torchscript" and blend == "weights":  # tracing cannot swap weights: a clear refusal
        with pytest.raises(ModelError, match="TorchScript cannot trace a routed model that mixes weights"):
            export_model(model, path, format=format, size=(16, 16))
        return
    out = export_model(model, path, format=format, size=(16, 16))
    x = torch.stack([torch.full((3, 16, 16), v) for v in (0.95, 0.9, 0.5)])  # weights 0, 0.5 and 1
    with torch.inference_mode():
        expected = np.concatenate([model(image[None]).background.numpy() for image in x])
        if format == "onnx":
            session = ort.InferenceSession(str(out.path), providers=["CPUExecutionProvider"])
            got = np.concatenate([session.run(None, {"image": image[None].numpy()})[0] for image in x])
        else:
            scripted = torch.jit.load(str(out.path))
            got = np.concatenate([scripted(image[None]).numpy() for image in x])
    assert len({round(float(v), 3) for v in expected.mean(axis=(1, 2, 3))}) == 3
    np.testing.assert_allclose(got, expected, atol=1e-5)
