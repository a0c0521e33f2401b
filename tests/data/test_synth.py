"""Rain synthesis: formulas, orientation, size-intensity, sequences, presets, determinism."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from conftest import smooth_image
from derain.data.synth import (
    PHP_DIRECTIONS,
    PRESETS,
    RainParams,
    add_rain,
    get_preset,
    php_preset_name,
    procedural_streaks,
    resolve_params,
    synth_timelapse,
    synth_video,
)
from derain.errors import ConfigError


def _orientation(layer: np.ndarray) -> tuple[float, float]:
    """Streak angle (deg from vertical, our sign) and coherence from the structure tensor.

    A streak along (-sin t, cos t) has its gradients along (cos t, sin t), whose orientation
    0.5 * atan2(2 Jxy, Jxx - Jyy) is t itself. Gradients of a Gaussian (sigma 2) avoid the
    diagonal bias of plain finite differences on 1-2 px lines.
    """
    gy, gx = np.gradient(cv2.GaussianBlur(layer.astype(np.float64), (0, 0), 2.0))
    jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    angle = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))
    coherence = math.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy)
    return angle, coherence


def test_add_rain_shapes_dtypes_ranges(rng: np.random.Generator) -> None:
    bg = smooth_image(40, 56)
    for composition in ("additive", "screen", "occlusion"):
        comp = add_rain(bg, "medium", rng, composition=composition)
        for arr in (comp.image, comp.background, comp.streaks):
            assert arr.shape == (40, 56, 3) and arr.dtype == np.float32
            assert arr.min() >= 0.0 and arr.max() <= 1.0
        assert comp.alpha.shape == (40, 56) and comp.alpha.dtype == np.float32
        assert comp.streaks.max() > 0.1  # rain was drawn


def test_additive_is_clipped_sum(rng: np.random.Generator) -> None:
    bg = smooth_image(64, 64)
    comp = add_rain(bg, "heavy", rng)
    np.testing.assert_allclose(comp.image, np.clip(bg + comp.streaks, 0, 1), atol=1e-6)
    assert not comp.alpha.any() and comp.reliance is None


def test_screen_formula(rng: np.random.Generator) -> None:
    bg = smooth_image(64, 64)
    comp = add_rain(bg, "medium", rng, composition="screen")
    np.testing.assert_allclose(comp.image, 1 - (1 - bg) * (1 - comp.streaks), atol=1e-6)


def test_occlusion_model_matches_formula(rng: np.random.Generator) -> None:
    bg = smooth_image(96, 96)
    comp = add_rain(bg, "heavy", rng, composition="occlusion")
    a = comp.alpha
    assert a.min() >= 0 and a.max() <= 1
    assert 0.0 < (a > 0).mean() < 0.5  # opaque cores exist but are a minority
    expected = np.clip((1 - a[..., None]) * (bg + comp.streaks) + a[..., None] * comp.reliance, 0, 1)
    np.testing.assert_allclose(comp.image, expected, atol=1e-6)


def test_haze_veils_the_composite(rng: np.random.Generator) -> None:
    bg = smooth_image(32, 32)
    comp = add_rain(bg, "light", rng, haze=0.3)
    np.testing.assert_allclose(comp.image, 0.7 * np.clip(bg + comp.streaks, 0, 1) + 0.3 * 0.85, atol=1e-6)


def test_same_seed_same_rain_other_seed_other_rain() -> None:
    bg = smooth_image(48, 48)
    a = add_rain(bg, "medium", np.random.default_rng(7), composition="occlusion")
    b = add_rain(bg, "medium", np.random.default_rng(7), composition="occlusion")
    c = add_rain(bg, "medium", np.random.default_rng(8), composition="occlusion")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.alpha, b.alpha)
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("angle", [-40.0, -15.0, 0.0, 30.0])
def test_streaks_are_thin_and_oriented(angle: float, rng: np.random.Generator) -> None:
    params = RainParams(density=0.003, length=24, width=0.6, angle=angle, angle_spread=0.0, layers=1)
    layer = procedural_streaks((160, 160), params, rng)
    measured, coherence = _orientation(layer)
    assert abs(measured - angle) < 3.0
    assert coherence > 0.6  # strongly oriented structure; white noise scores near 0
    assert (layer > 0.05).mean() < 0.3  # sparse streaks, not a wash


def test_noise_has_no_orientation(rng: np.random.Generator) -> None:
    """The orientation check can fail: unstructured noise has low coherence."""
    assert _orientation(rng.random((160, 160)))[1] < 0.1


def test_larger_streaks_are_brighter(rng: np.random.Generator) -> None:
    bg = np.zeros((128, 128, 3), np.float32)
    peaks = [np.percentile(add_rain(bg, f"php-d+0-s{k}", rng).streaks, 99.5) for k in (1, 3, 5)]
    assert peaks[0] < peaks[1] < peaks[2]


def test_depth_layers_far_is_dimmer() -> None:
    """In one multi-layer image, the thin (far) streaks are dimmer than the thick (near) ones."""
    near = RainParams(layers=1, angle_spread=0, intensity=0.8)
    far = resolve_params(near, width=near.width * 0.5, length=near.length * 0.5, intensity=0.4)
    hi = procedural_streaks((96, 96), near, np.random.default_rng(1)).max()
    lo = procedural_streaks((96, 96), far, np.random.default_rng(1)).max()
    assert lo < hi


def test_presets_and_names() -> None:
    php = [n for n in PRESETS if n.startswith("php-")]
    assert len(php) == 35 and php_preset_name(15, 3) == "php-d+15-s3" and "php-d-40-s1" in PRESETS
    assert {"light", "medium", "heavy", "rain100l-like", "rain100h-like"} <= set(PRESETS)
    assert PRESETS["php-d+15-s3"].angle == 15 and PRESETS["php-d+15-s3"].width == pytest.approx(0.6)
    assert len(PHP_DIRECTIONS) == 7


def test_unknown_preset_lists_presets() -> None:
    with pytest.raises(ConfigError, match=r"'drizzle'.*light, medium, heavy.*php-d\{") as info:
        get_preset("drizzle")
    assert "\n" not in str(info.value)


def test_bad_params_name_the_field() -> None:
    with pytest.raises(ConfigError, match=r"rain\.density"):
        RainParams(density=-1)


def test_light_to_heavy_adds_more_rain() -> None:
    bg = np.zeros((128, 128, 3), np.float32)
    means = [add_rain(bg, p, np.random.default_rng(3)).streaks.mean() for p in ("light", "medium", "heavy")]
    assert means[0] < means[1] < means[2]


def test_timelapse_shares_background_with_fresh_rain(rng: np.random.Generator) -> None:
    bg = smooth_image(48, 64)
    frames = synth_timelapse(bg, 4, rng, preset="medium")
    assert len(frames) == 4
    for f in frames:
        assert np.array_equal(f.background, bg)
        np.testing.assert_allclose(f.image, np.clip(bg + f.streaks, 0, 1), atol=1e-6)
    assert not np.array_equal(frames[0].streaks, frames[1].streaks)


def test_timelapse_regime_is_shared_within_a_scene() -> None:
    """One direction per scene: frames of a scene agree far better than frames of two scenes."""
    params = resolve_params("light", angle_spread=0.0, layers=1, density=0.004)
    bg = np.zeros((192, 192, 3), np.float32)
    angles = [
        [_orientation(f.streaks[..., 0])[0] for f in synth_timelapse(bg, 3, np.random.default_rng(s), preset=params)]
        for s in range(4)
    ]
    assert all(max(a) - min(a) < 5.0 for a in angles)
    assert max(a[0] for a in angles) - min(a[0] for a in angles) > 10.0


def test_timelapse_camera_effects_touch_only_the_image() -> None:
    bg = smooth_image(32, 32)
    kw = {"exposure_drift": 0.1, "noise_sigma": 0.02, "jpeg_quality": 70}
    a = synth_timelapse(bg, 2, np.random.default_rng(5), **kw)
    b = synth_timelapse(bg, 2, np.random.default_rng(5), **kw)
    assert np.array_equal(a[1].image, b[1].image)
    assert a[0].image.dtype == np.float32 and a[0].image.shape == (32, 32, 3)
    assert np.abs(a[0].image - np.clip(bg + a[0].streaks, 0, 1)).mean() > 0.005
    assert np.array_equal(a[0].background, bg)


def test_video_frames_follow_camera_motion(rng: np.random.Generator) -> None:
    bg = smooth_image(80, 100)
    still = synth_video(bg, 3, rng, motion="none", out_size=(60, 80))
    assert np.array_equal(still[0].background, still[2].background)
    assert not np.array_equal(still[0].streaks, still[1].streaks)  # new rain every frame
    for motion in ("pan", "zoom", "handheld"):
        frames = synth_video(bg, 3, np.random.default_rng(2), motion=motion, out_size=(60, 80))
        assert frames[0].image.shape == (60, 80, 3)
        assert np.abs(frames[0].background - frames[2].background).mean() > 1e-3
        np.testing.assert_allclose(frames[1].image, np.clip(frames[1].background + frames[1].streaks, 0, 1), atol=1e-6)


def test_video_default_size_leaves_room_to_pan(rng: np.random.Generator) -> None:
    frames = synth_video(smooth_image(50, 100), 2, rng)
    assert frames[0].image.shape == (40, 80, 3)


def test_texture_streaks_from_rendered_layers(shared_data, rng: np.random.Generator) -> None:
    params = resolve_params("medium", texture_dir=shared_data / "rain_streaks")
    bg = smooth_image(200, 300)
    comp = add_rain(bg, params, rng)
    assert comp.streaks.shape == (200, 300, 3) and comp.streaks.max() > 0.2
    np.testing.assert_allclose(comp.image, np.clip(bg + comp.streaks, 0, 1), atol=1e-6)
    again = add_rain(bg, params, np.random.default_rng(0))
    assert np.array_equal(again.image, comp.image)  # rng fixture is default_rng(0)


def test_broad_preset_veils_most_of_the_image_unlike_thin_presets() -> None:
    """``broad`` covers most pixels with faint wide bands; ``rain100l-like`` leaves most pixels untouched."""
    background = np.full((160, 160, 3), 0.4, np.float32)

    def covered(preset: str) -> float:
        comp = add_rain(background, preset, np.random.default_rng(0), composition="screen")
        return float(((comp.image - background).mean(axis=2) > 0.05).mean())

    assert 0.4 < covered("broad") < 0.95
    assert covered("rain100l-like") < 0.35
