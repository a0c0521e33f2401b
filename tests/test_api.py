"""derain.load / Derainer on every input kind, odd sizes, batching, bundled and user weights."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import derain
from conftest import TINY, smooth_image
from derain import checkpoint
from derain.checkpoint import read_manifest
from derain.data.io import write_image
from derain.errors import ModelError


@pytest.fixture(scope="module")
def derainer(tiny_weights):
    """A randomly initialised tiny baseline loaded from a user weights file (no bundled weights needed)."""
    return derain.load(tiny_weights, "cpu", tile=32, overlap=8)


def test_loaded_from_file(derainer):
    assert derainer.name == "baseline"
    assert derainer.device == torch.device("cpu")
    assert not derainer.model.training
    assert "baseline" in derain.list_models()


@pytest.mark.parametrize(("h", "w"), [(1, 1), (7, 5), (37, 53), (64, 64)])
def test_numpy_float_any_size(derainer, h, w):
    img = smooth_image(h, w)
    out = derainer(img)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.uint16, 65535)])
def test_numpy_integers_keep_dtype(derainer, dtype, top):
    img = smooth_image(20, 30)
    ints = np.round(img * top).astype(dtype)
    out = derainer(ints)
    assert out.dtype == dtype and out.shape == ints.shape
    np.testing.assert_allclose(out / top, derainer(ints.astype(np.float32) / top), atol=1.0 / top)


def test_float64_stays_float64(derainer):
    assert derainer(smooth_image(9, 11).astype(np.float64)).dtype == np.float64


def test_pil_rgb_and_rgba(derainer):
    rgb = Image.fromarray(np.round(smooth_image(21, 34) * 255).astype(np.uint8))
    out = derainer(rgb)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == rgb.size
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(np.full((21, 34), 77, np.uint8)))
    out = derainer(rgba)
    assert out.mode == "RGBA" and np.all(np.asarray(out)[..., 3] == 77)


@pytest.mark.parametrize("shape", [(3, 19, 23), (2, 3, 19, 23)])
def test_tensors_keep_shape_and_dtype(derainer, shape):
    x = torch.rand(shape, dtype=torch.float64)
    out = derainer(x)
    assert out.shape == x.shape and out.dtype == torch.float64 and out.device == x.device
    if x.ndim == 4:  # each batch item derained on its own
        torch.testing.assert_close(out[1], derainer(x[1]))


def test_path_gives_float32_numpy(derainer, tmp_path):
    path = write_image(tmp_path / "in.png", smooth_image(17, 22))
    out = derainer(path)
    assert out.shape == (17, 22, 3) and out.dtype == np.float32
    assert derainer(str(path)).shape == out.shape


def test_bad_inputs(derainer):
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        derainer(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="list"):
        derainer([1, 2, 3])


def test_batch_matches_single_calls_and_keeps_order(derainer):
    images = [smooth_image(16, 16, seed=0), smooth_image(24, 20, seed=1), smooth_image(16, 16, seed=2)]
    outs = derainer.batch(images)
    assert [o.shape for o in outs] == [i.shape for i in images]
    for img, out in zip(images, outs, strict=True):
        np.testing.assert_allclose(out, derainer(img), atol=1e-5)


def test_no_bundled_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "MANIFEST", tmp_path / "manifest.json")
    with pytest.raises(ModelError, match="baseline: no bundled weights yet"):
        derain.load("baseline", "cpu")


def test_unknown_model_name():
    with pytest.raises(ModelError, match=r"basline.*did you mean baseline"):
        derain.load("basline", "cpu")


def test_bundled_weights_from_manifest(tmp_path, monkeypatch, tiny_weights):
    monkeypatch.setattr(checkpoint, "MANIFEST", tmp_path / "manifest.json")
    shutil.copy(tiny_weights, tmp_path / "b.safetensors")
    checkpoint.update_manifest("baseline", {"file": "b.safetensors", "model": "baseline", "config": TINY})
    assert derain.load("baseline", "cpu")(smooth_image(8, 8)).shape == (8, 8, 3)


def test_altered_bundled_weights_are_refused(tmp_path, monkeypatch, tiny_weights):
    monkeypatch.setattr(checkpoint, "MANIFEST", tmp_path / "manifest.json")
    shutil.copy(tiny_weights, tmp_path / "b.safetensors")
    entry = {"file": "b.safetensors", "sha256": checkpoint.file_sha256(tiny_weights), "model": "baseline"}
    checkpoint.update_manifest("baseline", entry)
    assert checkpoint.bundled_weights("baseline") == tmp_path / "b.safetensors"
    with (tmp_path / "b.safetensors").open("ab") as f:
        f.write(b"x")
    with pytest.raises(ModelError, match=r"b\.safetensors: SHA-256 differs from the manifest's"):
        derain.load("baseline", "cpu")


@pytest.mark.parametrize(
    "name", sorted(read_manifest()) or [pytest.param(None, marks=pytest.mark.skip("no bundled weights yet"))]
)
def test_each_bundled_model_loads_and_derains(name):
    out = derain.load(name, "cpu")(smooth_image(40, 48))
    assert out.shape == (40, 48, 3) and np.isfinite(out).all()


def test_load_without_a_name_is_the_default_model():
    derainer = derain.load(device="cpu")
    assert derainer.name == derain.DEFAULT_MODEL
    assert derainer(smooth_image(16, 20)).shape == (16, 20, 3)
