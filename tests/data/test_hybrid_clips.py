"""J4R's hybrid-rain training clips (paper 003, eq. 3): occlusions show exactly A, ground truth per frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from conftest import smooth_image
from derain.data.datasets import build_dataset
from derain.data.synth.hybrid import occlude, synth_hybrid_clip
from derain.data.synth.params import resolve_params
from derain.data.synth.sequences import synth_video


def test_hybrid_pixels_with_alpha_one_equal_the_reliance() -> None:
    clip = synth_hybrid_clip(smooth_image(90, 110), 4, np.random.default_rng(0), preset="heavy", out_size=(64, 80))
    occluded = 0
    for frame in clip:
        assert set(np.unique(frame.alpha)) <= {0.0, 1.0}  # eq. 4: binary
        mask = frame.alpha == 1
        occluded += int(mask.sum())
        np.testing.assert_array_equal(frame.image[mask], frame.reliance[mask])
        keep = ~mask  # elsewhere the additive model: O = B + S
        np.testing.assert_allclose(frame.image[keep], (frame.background + frame.streaks)[keep], atol=1e-6)
    assert occluded > 0


def test_occlude_leaves_no_trace_without_drops() -> None:
    (frame,) = synth_video(smooth_image(40, 40), 1, np.random.default_rng(1), out_size=(32, 32))
    none = resolve_params("light", density=0.0)
    out = occlude(frame, none, np.random.default_rng(2))
    assert not out.alpha.any()
    np.testing.assert_array_equal(out.image, frame.image)


def test_clip_camera_moves_and_rain_is_new_every_frame() -> None:
    clip = synth_hybrid_clip(smooth_image(90, 110), 3, np.random.default_rng(3), motion="handheld", out_size=(64, 80))
    assert np.abs(clip[0].background - clip[2].background).mean() > 1e-3
    assert not np.array_equal(clip[0].streaks, clip[1].streaks)
    additive = synth_hybrid_clip(smooth_image(60, 60), 2, np.random.default_rng(3), occlusion=False, out_size=(40, 40))
    assert not any(f.alpha.any() for f in additive)


def test_dataset_items_carry_background_streaks_and_alpha(tmp_path: Path) -> None:
    for i in range(2):
        Image.fromarray((smooth_image(50, 60, seed=i) * 255).astype(np.uint8)).save(tmp_path / f"p{i}.png")
    ds = build_dataset("hybrid_clips", clean_dir=str(tmp_path), crop=24, frames=3, length=4, preset="heavy")
    item = ds[0]
    assert {k: tuple(v.shape) for k, v in item.items()} == {
        "rain": (3, 3, 24, 24),
        "clean": (3, 3, 24, 24),
        "streaks": (3, 3, 24, 24),
        "alpha": (3, 1, 24, 24),
    }
    assert all(v.dtype == torch.float32 for v in item.values())
    assert torch.equal(ds[0]["rain"], item["rain"])  # seeded per (seed, epoch, index)


def test_real_mix_rain_keeps_exact_occlusions() -> None:
    clip = synth_hybrid_clip(smooth_image(90, 110), 2, np.random.default_rng(4), preset="real-mix", out_size=(64, 80))
    for frame in clip:
        mask = frame.alpha == 1
        np.testing.assert_array_equal(frame.image[mask], frame.reliance[mask])
