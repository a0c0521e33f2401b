"""derain.inference: tiling, blending, padding, device/dtype choice, video state."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import derain
from conftest import smooth_image
from derain.errors import ConfigError
from derain.inference import Engine, RecurrentStep, derain_frames, image_step, pick_device, pick_dtype
from derain.inference.engine import tile_side, tile_spans, tile_starts
from derain.models import DerainModel, ModelOutput, build_model
from derain.models.base import Tiling

CPU = torch.device("cpu")


def _image(h: int, w: int, batch: int = 1) -> torch.Tensor:
    return torch.stack([torch.from_numpy(smooth_image(h, w, seed=i)).permute(2, 0, 1) for i in range(batch)])


@pytest.mark.parametrize(("size", "tile", "overlap"), [(100, 40, 8), (513, 512, 32), (1000, 512, 32), (40, 40, 8)])
def test_tile_starts_cover_with_overlap(size, tile, overlap):
    starts = tile_starts(size, tile, overlap)
    assert starts[0] == 0 and starts[-1] + tile == size
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize(("size", "tile", "overlap", "align"), [(1000, 363, 32, 8), (150, 136, 32, 4), (97, 40, 8, 1)])
def test_tile_spans_start_on_the_model_grid_and_keep_the_overlap(size, tile, overlap, align):
    spans = tile_spans(size, tile, overlap, align)
    assert spans[0][0] == 0 and spans[-1][1] == size and all(start % align == 0 for start, _ in spans)
    assert all(stop - start >= tile for start, stop in spans[:-1] + spans[-1:])
    assert all(a_stop - b_start >= overlap for (_, a_stop), (b_start, _) in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("size", "max_tile", "overlap", "side"),
    [(1024, 512, 32, 363), (513, 512, 32, 273), (512, 512, 32, 512), (300, 512, 32, 300), (70, 50, 24, 49)],
)
def test_tile_side_shares_the_image_evenly_with_as_few_tiles(size, max_tile, overlap, side):
    assert tile_side(size, max_tile, overlap) == side
    assert len(tile_starts(size, side, overlap)) == len(tile_starts(size, max_tile, overlap))


def test_channels_last_on_cpu_for_the_engine_and_the_loaded_weights():
    assert Engine.for_model(build_model("php"), CPU, torch.float32).channels_last
    loaded = derain.load("php", "cpu")
    assert loaded.engine.channels_last
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in loaded.model.parameters() if p.dim() == 4)


def test_tiled_equals_untiled_for_a_finite_receptive_field():
    # One level, one residual block: receptive-field radius 5 px <= overlap // 4.
    model = build_model("baseline", {"channels": (4,), "bottleneck_blocks": 1}).eval()
    x = _image(70, 97, batch=2)
    whole = Engine(CPU, torch.float32, model.size_divisor, tile=0).run(image_step(model), x)
    tiled = Engine(CPU, torch.float32, model.size_divisor, tile=50, overlap=24).run(image_step(model), x)
    assert tiled.shape == whole.shape == x.shape
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_local_policy_sets_the_overlap_and_tiled_equals_untiled():
    # One level, one residual block: theoretical receptive-field radius 2 + 4 + 1 = 7 px <= 8.
    model = build_model("baseline", {"channels": (4,), "bottleneck_blocks": 1}).eval()
    model.tiling = Tiling.local(8)
    engine = Engine.for_model(model, CPU, torch.float32, tile=80)
    assert engine.overlap == 32 and Engine.for_model(model, CPU, torch.float32).tile == 512
    x = _image(90, 170)
    whole = Engine.for_model(model, CPU, torch.float32, tile=0).run(image_step(model), x)
    tiled = engine.run(image_step(model), x)
    assert (tiled - whole).abs().max() < 1e-3


class _RowMean(DerainModel):
    """A global model: every output pixel is the mean of its row and column; records the tiles it sees."""

    tiling = Tiling.global_(bytes_per_pixel=100)

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor) -> ModelOutput:
        self.shapes.append(tuple(x.shape[-2:]))
        return ModelOutput(background=(x.mean(-1, keepdim=True) + x.mean(-2, keepdim=True)).expand_as(x) / 2)


def test_global_model_runs_untiled_within_the_budget_and_in_full_width_strips_beyond():
    model = _RowMean()
    x = _image(120, 90)
    whole = Engine(CPU, torch.float32, tile=0).run(image_step(model), x)
    fits = Engine.for_model(model, CPU, torch.float32, memory_budget=100 * 120 * 90)
    torch.testing.assert_close(fits.run(image_step(model), x), whole)
    assert model.shapes[-1] == (120, 90)
    model.shapes.clear()
    strips = Engine.for_model(model, CPU, torch.float32, memory_budget=100 * 90 * 70)
    out = strips.run(image_step(model), x)
    assert {w for _, w in model.shapes} == {90} and max(h for h, _ in model.shapes) <= 70
    assert (out - whole).abs().max() > 1e-3  # the known difference: columns are cut
    model.shapes.clear()
    Engine.for_model(model, CPU, torch.float32, memory_budget=100 * 40 * 40).run(image_step(model), x)
    assert max(h * w for h, w in model.shapes) <= 66 * 66  # squares at least 2 * overlap + 1 wide


def test_tiled_close_to_untiled_for_the_default_model():
    model = build_model("baseline").eval()
    x = _image(150, 170)
    whole = Engine(CPU, torch.float32, model.size_divisor, tile=0).run(image_step(model), x)
    tiled = Engine(CPU, torch.float32, model.size_divisor, tile=96, overlap=32).run(image_step(model), x)
    assert (tiled - whole).abs().mean() < 1e-3


class _DivisorCheck(DerainModel):
    """Identity that insists on inputs padded to its divisor."""

    size_divisor = 8

    def forward(self, x: torch.Tensor) -> ModelOutput:
        assert x.shape[-2] % 8 == 0 and x.shape[-1] % 8 == 0, x.shape
        return ModelOutput(background=x)


@pytest.mark.parametrize("tile", [0, 16])
def test_odd_sizes_are_padded_and_cropped_back(tile):
    model = _DivisorCheck()
    x = _image(37, 29)
    out = Engine(CPU, torch.float32, model.size_divisor, tile=tile, overlap=4).run(image_step(model), x)
    torch.testing.assert_close(out, x)


def test_half_precision_refused_on_cpu():
    with pytest.raises(ConfigError, match="fp16"):
        pick_dtype("fp16", CPU)
    assert pick_dtype(None, CPU) == torch.float32
    with pytest.raises(ConfigError, match="unknown"):
        pick_dtype("fp8", CPU)


def test_device_choice():
    assert pick_device("cpu") == CPU
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="not available"):
            pick_device("cuda")
        assert pick_device("auto").type in {"cpu", "mps"}
    with pytest.raises(ConfigError, match="not a device"):
        pick_device("tpu9")


def test_bad_tiling_settings():
    with pytest.raises(ConfigError, match="overlap"):
        Engine(CPU, torch.float32, tile=64, overlap=32)


class _FrameCounter(DerainModel):
    """Video model whose output is the number of frames it has seen (its state) / 10."""

    is_video = True
    tiling = Tiling.local(1)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple[ModelOutput, torch.Tensor]:
        assert x.ndim == 4
        seen = (torch.zeros(()) if state is None else state) + 1
        return ModelOutput(background=torch.full_like(x, 0.1) * seen), seen


@pytest.mark.parametrize("tile", [0, 16])
def test_video_models_carry_state_per_tile(tile):
    frames = [smooth_image(30, 40, seed=i) for i in range(3)]
    engine = Engine(CPU, torch.float32, tile=tile, overlap=4)
    outs = list(derain_frames(_FrameCounter(), engine, frames))
    assert [round(float(o.mean()), 4) for o in outs] == [0.1, 0.2, 0.3]


def test_recurrent_step_keys_states_by_tile():
    step = RecurrentStep(_FrameCounter())
    tile = torch.zeros(1, 3, 8, 8)
    step(tile, (0, 0))
    step(tile, (0, 0))
    step(tile, (0, 8))
    assert {k: float(v) for k, v in step.states.items()} == {(0, 0): 2.0, (0, 8): 1.0}


class _LeftBias(DerainModel):
    """Adds a left-to-right ramp: not mirror-symmetric, so the mirrored pass gives a different output."""

    size_divisor = 8
    tiling = Tiling.local(1)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        ramp = torch.linspace(0.0, 0.2, x.shape[-1], dtype=x.dtype)
        return ModelOutput(background=x + ramp)


@pytest.mark.parametrize("tile", [0, 24])
def test_self_ensemble_averages_the_mirrored_pass(tile):
    model = _LeftBias()
    x = _image(37, 29)
    plain = Engine(CPU, torch.float32, model.size_divisor, tile=tile, overlap=4).run(image_step(model), x)
    mirrored = Engine(CPU, torch.float32, model.size_divisor, tile=tile, overlap=4, self_ensemble=True)
    both = mirrored.run(image_step(model), x)
    # The ramp and its mirror average to a constant 0.1 over each padded tile's width: only x + 0.1 is left.
    assert not torch.allclose(plain, x + 0.1, atol=1e-3)
    torch.testing.assert_close(both, x + 0.1, atol=1e-6, rtol=0)


def test_self_ensemble_through_load_and_its_refusal_for_video_models():
    derainer = derain.load("php", "cpu", self_ensemble=True)
    assert derainer.engine.self_ensemble and "self_ensemble=True" in repr(derainer)
    image = smooth_image(40, 56, seed=3)
    plain, both = derain.load("php", "cpu")(image), derainer(image)
    expected = (plain + derain.load("php", "cpu")(image[:, ::-1].copy())[:, ::-1]) / 2
    np.testing.assert_allclose(both, expected, atol=1e-5)
    with pytest.raises(ConfigError, match=r"^self-ensemble: video models"):
        Engine.for_model(_FrameCounter(), CPU, torch.float32, self_ensemble=True)
