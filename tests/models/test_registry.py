"""Every registered model, one parametrized test each: a newly registered model is covered automatically.

Each model is built from its spec's ``tiny`` overrides (few channels, so the whole file stays fast)
and checked against the contract of :mod:`derain.models.base`: odd sizes, a gradient step, a
save/load round trip, a deterministic eval forward, export (image models) and, for local tiling
policies, tiled against untiled. ``testing.recurrent`` (``toy_recurrent.py``) adds a video model,
which also runs end to end: training with truncated BPTT, validation on a clip, streaming.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from toy_recurrent import NAME as TOY
from toy_recurrent import SPEC as TOY_SPEC

from conftest import smooth_image
from derain.checkpoint import build_from_file, save_weights
from derain.data.io import write_image
from derain.errors import ModelError
from derain.export import export_model
from derain.inference import Engine, derain_frames, make_step
from derain.models import MODELS, DerainModel, ModelOutput, build_model
from derain.models.base import Tiling

CPU = torch.device("cpu")
SIZES = [(1, 1), (31, 17), (257, 129)]


def _build(name: str) -> DerainModel:
    torch.manual_seed(0)
    return build_model(name, MODELS.get(name).tiny)


def _run(model: DerainModel, x: torch.Tensor) -> ModelOutput:
    """One forward: image models on ``x``, video models on ``x`` as the first frame of a clip."""
    return model(x, None)[0] if model.is_video else model(x)


def _image(h: int, w: int) -> torch.Tensor:
    return torch.from_numpy(smooth_image(h, w, seed=h * w)).permute(2, 0, 1)[None]


@pytest.fixture(scope="module", autouse=True)
def _toy_registered() -> Iterator[None]:
    """``testing.recurrent`` is in the registry while this module runs, and only then."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(MODELS._items, TOY, TOY_SPEC)
        yield


@pytest.fixture(params=sorted({*MODELS.names(), TOY}))
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_declares_the_contract(name: str) -> None:
    model = _build(name)
    assert isinstance(model.tiling, Tiling) and model.size_divisor >= 1
    assert isinstance(MODELS.get(name).tiny, dict)


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_forward_on_odd_sizes(name: str, h: int, w: int) -> None:
    model = _build(name).eval()
    with torch.no_grad():
        out = _run(model, _image(h, w))
    assert out.background.shape == (1, 3, h, w)
    assert torch.isfinite(out.background).all() and out.background.min() >= 0 and out.background.max() <= 1


def test_gradient_step_moves_the_weights(name: str) -> None:
    model = _build(name).train()
    before = {k: v.clone() for k, v in model.named_parameters()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = _image(24, 40).expand(2, -1, -1, -1)
    if model.is_video:  # two frames, the gradient flows through the state
        first, state = model(x, None)
        out = model(x, state)[0]
        loss = (first.background - 0.5).abs().mean() + (out.background - 0.5).abs().mean()
    else:
        loss = (model(x).background - 0.5).abs().mean()
    loss.backward()
    opt.step()
    moved = [k for k, v in model.named_parameters() if not torch.equal(v, before[k])]
    assert torch.isfinite(loss) and moved  # zero-initialised gates (fastnet) keep some weights still at step 1


def test_save_load_round_trip_and_deterministic_eval(name: str, tmp_path: Path) -> None:
    model = _build(name).eval()
    path = save_weights(model, tmp_path / "w.safetensors", model_name=name, config=MODELS.get(name).tiny)
    loaded_name, loaded = build_from_file(path)
    x = _image(33, 20)
    with torch.no_grad():
        a, b, c = _run(model, x).background, _run(model, x).background, _run(loaded.eval(), x).background
    assert loaded_name == name
    assert torch.equal(a, b)  # eval mode: no state changes between calls (e.g. memory items)
    assert torch.equal(a, c)


def test_export_where_supported(name: str, tmp_path: Path) -> None:
    model = _build(name).eval()
    path = tmp_path / "m.pt"
    if model.is_video:
        with pytest.raises(ModelError, match="video"):
            export_model(model, path, format="torchscript", size=(16, 16), model_name=name)
        return
    export_model(model, path, format="torchscript", size=(16, 24), model_name=name)
    x = _image(16, 24)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(path))(x), model(x).background, atol=1e-5, rtol=0)


def test_channels_last_matches_the_default_layout(name: str) -> None:
    model = _build(name).eval().requires_grad_(False)
    with torch.no_grad():  # non-zero heads (several start at zero), so the output is not the input
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    x = _image(40, 56)
    plain = Engine(CPU, torch.float32, model.size_divisor, tile=0)
    last = Engine(CPU, torch.float32, model.size_divisor, tile=0, channels_last=True)
    ref = plain.run(make_step(model), x)
    out = last.run(make_step(last.prepare(copy.deepcopy(model))), x)
    assert (ref - x).abs().max() > 1e-3
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_tiled_against_untiled_where_the_policy_says_they_agree(name: str) -> None:
    model = _build(name).eval().requires_grad_(False)
    if model.tiling.kind == "global":
        pytest.skip("global receptive field: tiling changes the result (documented in docs/architecture.md)")
    x = _image(150, 110)
    tiled = Engine.for_model(model, CPU, torch.float32, tile=4 * 4 * model.tiling.radius + 8)
    assert tiled.tile_shape(1, 150, 110) != (150, 110)
    whole = Engine.for_model(model, CPU, torch.float32, tile=0).run(make_step(model), x)
    diff = (tiled.run(make_step(model), x) - whole).abs()
    assert diff.mean() < 1e-3  # the radius is an effective one: far pixels weigh little, not nothing


# ----------------------------------------------------------------------------- the video contract, end to end


def _write_clip(root: Path, frames: int = 6, size: int = 20) -> Path:
    for t in range(frames):
        clean = smooth_image(size, size, seed=t)
        write_image(root / "clean" / f"{t:03d}.png", clean)
        write_image(root / "rain" / f"{t:03d}.png", (clean * 0.7 + 0.3).clip(0, 1))
    return root


def test_recurrent_model_trains_with_tbptt_validates_on_a_clip_and_streams(tmp_path: Path) -> None:
    from derain.train.config import parse_config
    from derain.train.runlog import read_log
    from derain.train.trainer import train

    clip = _write_clip(tmp_path / "clip")
    raw = {
        "model": {"name": TOY},
        "objective": {"name": "video_supervised"},
        "data": {"kind": "video_folder", "options": {"root": str(clip), "frames": 5, "crop": 16}},
        "val": {"path": str(clip), "every": 2, "max_images": 4},
        "train": {"steps": 2, "batch_size": 2, "lr": 1e-2, "tbptt": 2, "ema": 0.9, "device": "cpu", "log_every": 1},
        "output": {"dir": str(tmp_path / "run"), "export": {"path": str(tmp_path / "toy.safetensors"), "name": "toy"}},
    }
    result = train(parse_config(raw), command="test")
    records = read_log(tmp_path / "run" / "log.jsonl")
    assert [r["step"] for r in records if "loss" in r] == [1, 2]
    val = [r["val"] for r in records if "val" in r][-1]
    assert val["count"] == 4 and val["psnr_y"] > 0
    assert result.best_psnr == val["psnr_y"]

    _, model = build_from_file(tmp_path / "toy.safetensors")
    frames = [smooth_image(40, 30, seed=t) for t in range(3)]
    tiled = list(derain_frames(model.eval(), Engine.for_model(model, CPU, torch.float32, tile=24), frames))
    untiled = list(derain_frames(model, Engine.for_model(model, CPU, torch.float32, tile=0), frames))
    assert len(tiled) == 3 and tiled[0].shape == (40, 30, 3)
    # Frame 1 sees no state; later frames carry one per tile, whose border context differs from untiled.
    assert abs(tiled[0] - untiled[0]).max() < 1e-5
