"""Realistic rain: JORDER veil, camera degradations, near drops, darker streaks, textures, real-mix."""

from __future__ import annotations

import collections
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import smooth_image
from derain.data.synth import (
    MIXTURE_NAMES,
    MIXTURES,
    REAL_MIX,
    Degradation,
    DegradeRanges,
    RainParams,
    RainRecipe,
    add_rain,
    apply_veil,
    check_rain_names,
    degrade,
    degrade_pair,
    draw_degradation,
    draw_recipe,
    draw_veil,
    get_preset,
    near_drops,
    render_recipe,
    streak_kernel,
    streak_source,
    synth_timelapse,
    synth_video,
)
from derain.data.synth.regimes import TEXTURE_WEIGHT
from derain.data.synth.streaks import _GRAIN_VARIANCE
from derain.errors import ConfigError, DatasetError

NO_CAMERA = Degradation()


@pytest.fixture
def textures(tmp_path: Path) -> Path:
    """A folder with one tiny white-on-black streak texture."""
    from derain.data.io import write_image

    layer = np.zeros((40, 60, 3), np.float32)
    layer[5:30, 10:12] = 1.0
    write_image(tmp_path / "textures" / "t0.png", layer)
    return tmp_path / "textures"


def test_veil_formula_exact_on_crafted_inputs() -> None:
    image = np.full((2, 3, 3), 0.5, np.float32)
    image[0, 0] = (1.0, 0.0, 0.25)
    t = np.array([[1.0, 0.6, 0.0], [0.25, 0.5, 0.75]], np.float32)
    a = np.array([0.9, 0.8, 0.7], np.float32)
    out = apply_veil(image, t, a)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], (1.0, 0.0, 0.25))  # alpha 1: the scene untouched
    np.testing.assert_allclose(out[0, 2], a)  # alpha 0: only the atmospheric light
    np.testing.assert_allclose(out[0, 1], 0.6 * 0.5 + 0.4 * a, rtol=1e-6)
    np.testing.assert_allclose(out[1, 0], 0.25 * 0.5 + 0.75 * a, rtol=1e-6)
    np.testing.assert_allclose(apply_veil(image, 0.7, 0.85), 0.7 * image + 0.3 * 0.85, rtol=1e-6)


def test_draw_veil_is_smooth_bright_and_about_the_strength(rng: np.random.Generator) -> None:
    t, a = draw_veil((64, 80), 0.3, rng)
    assert t.shape == (64, 80) and t.dtype == np.float32 and a.shape == (3,)
    assert 0.6 < float(t.mean()) < 0.8 and t.min() >= 0.0 and t.max() <= 1.0
    assert np.abs(np.diff(t, axis=1)).max() < 0.05  # low-frequency: a veil, not noise
    assert a.min() >= 0.6 and a.max() <= 1.0 and np.ptp(a) <= 0.08


def test_heavy_recipe_composes_jorder_model_exactly(rng: np.random.Generator) -> None:
    """O = alpha (B + S) + (1 - alpha) A, with the composite exposing S, alpha and A."""
    bg = smooth_image(48, 64)
    recipe = RainRecipe("test", (get_preset("heavy"),), veil=0.3)
    comp = render_recipe(bg, recipe, rng)
    assert comp.transmission is not None and comp.airlight is not None
    t = comp.transmission[:, :, None]
    expected = t * np.clip(bg + comp.streaks, 0, 1) + (1 - t) * comp.airlight
    np.testing.assert_allclose(comp.image, expected, atol=1e-6)
    assert np.array_equal(comp.background, bg)


def test_darker_streaks_darken_a_bright_sky(rng: np.random.Generator) -> None:
    sky = np.full((64, 64, 3), 0.9, np.float32)
    recipe = RainRecipe("test", (RainParams(density=0.004, intensity=0.8),), tone=0.3)
    comp = render_recipe(sky, recipe, rng)
    rain = comp.streaks[..., 0] > 0.05
    assert rain.mean() > 0.05  # the rain layer (and so a mask) is there
    assert (comp.image <= sky + 1e-6).all()
    assert (comp.image[rain] < sky[rain] - 0.02).all()
    np.testing.assert_allclose(comp.image, sky + comp.streaks * (0.3 - sky), atol=1e-6)
    ground = np.full((64, 64, 3), 0.05, np.float32)  # the same drops look bright on dark ground
    assert render_recipe(ground, recipe, np.random.default_rng(0)).image.max() > 0.15


def test_near_drops_are_large_soft_translucent_blobs(rng: np.random.Generator) -> None:
    bg = smooth_image(96, 128)
    alpha, colour = near_drops(bg, 4, rng)
    assert alpha.shape == (96, 128) and colour.shape == bg.shape
    assert alpha.min() >= 0.0 and alpha.max() <= 0.8  # semi-transparent
    assert (alpha > 0.05).mean() > 0.02  # large, not pin-pricks
    assert np.abs(np.diff(alpha, axis=0)).max() < 0.2  # soft edges (defocused)
    assert colour.mean() > bg.mean()  # refracted, brightened scene
    assert not near_drops(bg, 0, rng)[0].any()


def test_degradation_draws_stay_in_their_ranges() -> None:
    ranges = DegradeRanges()
    rng = np.random.default_rng(3)
    draws = [draw_degradation(ranges, rng) for _ in range(400)]
    qualities = [d.jpeg_quality for d in draws if d.jpeg_quality is not None]
    assert 30 <= min(qualities) <= 40 and 85 <= max(qualities) <= 95
    scales = [d.scale for d in draws if d.scale < 1]
    assert min(scales) >= 0.5 and max(scales) <= 0.95
    noises = [d.noise for d in draws if d.noise > 0]
    assert min(noises) >= 0.003 and max(noises) <= 0.03
    blurs = [d.blur for d in draws if d.blur > 0]
    assert min(blurs) >= 0.3 and max(blurs) <= 1.0
    for values, p in ((qualities, 0.8), (scales, 0.4), (noises, 0.5), (blurs, 0.3)):
        assert abs(len(values) / 400 - p) < 0.08
    assert any(d == Degradation() for d in draws)  # some images keep the camera-clean look


def test_degrade_changes_only_what_it_is_told(rng: np.random.Generator) -> None:
    image = smooth_image(40, 56)
    assert np.array_equal(degrade(image, NO_CAMERA, rng), image)
    for d in (Degradation(blur=1.0), Degradation(scale=0.5), Degradation(noise=0.02), Degradation(jpeg_quality=30)):
        out = degrade(image, d, rng)
        assert out.shape == image.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert 1e-5 < float(np.abs(out - image).mean()) < 0.05


@pytest.mark.parametrize(
    ("field", "value"), [("jpeg_quality", (20, 120)), ("scale", (0.9, 0.5)), ("noise", (0.0, 0.5)), ("p_jpeg", 1.5)]
)
def test_bad_degradation_ranges_name_the_key(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^degrade\.{field}: ") as info:
        DegradeRanges(**{field: value})
    assert "\n" not in str(info.value)


def test_streak_kernel_matches_the_brute_force_recipe() -> None:
    """The windowed kernel equals evaluating every motion-blur sample on the whole grid."""
    length, width, angle, threshold = 14.0, 0.9, 25.0, 0.2
    sigma = math.sqrt(width**2 + _GRAIN_VARIANCE)
    half = math.ceil(length / 2 + 3 * sigma)
    grid = np.arange(-half, half + 1, dtype=np.float64)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    ux, uy = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
    brute = np.zeros_like(xx)
    for s in np.linspace(-length / 2, length / 2, math.ceil(length * 2)):
        g = np.exp(-((xx - s * ux) ** 2 + (yy - s * uy) ** 2) / (2 * sigma**2))
        brute += np.clip(g - threshold, 0, None)
    kernel = streak_kernel(length, width, angle, threshold)
    np.testing.assert_allclose(kernel, brute / brute.max(), atol=1e-5)


def test_real_mix_same_seed_byte_identical_other_seed_differs() -> None:
    bg = smooth_image(48, 48)
    for seed in range(12):  # enough seeds to visit most regimes
        a = add_rain(bg, "real-mix", np.random.default_rng(seed))
        b = add_rain(bg, "real-mix", np.random.default_rng(seed))
        assert a.image.tobytes() == b.image.tobytes() and a.streaks.tobytes() == b.streaks.tobytes()
        assert a.image.dtype == np.float32 and a.image.min() >= 0.0 and a.image.max() <= 1.0
        assert a.streaks.min() >= 0.0  # the rain layer stays a non-negative map a mask can threshold
    other = add_rain(bg, "real-mix", np.random.default_rng(99))
    assert not np.array_equal(add_rain(bg, "real-mix", np.random.default_rng(0)).image, other.image)


def test_real_mix_visits_every_regime_at_its_weight(textures: Path) -> None:
    rng = np.random.default_rng(0)
    counts = collections.Counter(draw_recipe(rng, textures).regime for _ in range(2000))
    weights = {name: w for name, (w, _) in REAL_MIX.items()} | {"texture": TEXTURE_WEIGHT}
    total = sum(weights.values())
    assert set(counts) == set(weights)
    for name, w in weights.items():
        assert abs(counts[name] / 2000 - w / total) < 0.03, name
    no_textures = collections.Counter(draw_recipe(rng).regime for _ in range(300))
    assert "texture" not in no_textures


def test_every_mixture_name_has_a_mixture() -> None:
    assert set(MIXTURES) == set(MIXTURE_NAMES)  # params.py names them without importing mixture.py


@pytest.mark.parametrize(
    ("mixture", "haze_share"), [("real-mix-2", 0.2), ("real-mix-3", 0.4), ("real-mix-4", 0.4), ("real-mix-5", 0.4)]
)
def test_real_mix_2_and_3_draw_their_regimes_at_their_weights_and_veil_only_dense_rain(
    mixture: str, haze_share: float
) -> None:
    rng = np.random.default_rng(0)
    recipes = [draw_recipe(rng, None, mixture) for _ in range(2000)]
    weights = {name: w for name, (w, _) in MIXTURES[mixture].regimes.items()}
    counts = collections.Counter(r.regime for r in recipes)
    assert set(counts) == set(weights) and "near" in counts
    for name, w in weights.items():
        assert abs(counts[name] / 2000 - w / sum(weights.values())) < 0.03, name
    veiled = {r.regime for r in recipes if r.veil > 0}
    assert veiled == {"heavy", "misty", "dark"}  # dark rain is drawn from heavy half the time
    hazy = [r for r in recipes if r.scene_haze > 0]
    assert abs(len(hazy) / 2000 - haze_share) < 0.03
    assert all(0.05 <= r.scene_haze <= 0.35 and 0.6 <= r.scene_airlight <= 0.95 for r in hazy)


def test_real_mix_6_adds_wide_soft_veiled_bands_and_keeps_real_mix_5_otherwise() -> None:
    rng = np.random.default_rng(0)
    recipes = [draw_recipe(rng, None, "real-mix-6") for _ in range(2000)]
    weights = {name: w for name, (w, _) in MIXTURES["real-mix-6"].regimes.items()}
    assert set(weights) == set(MIXTURES["real-mix-5"].regimes) | {"bands"}
    bands = [r for r in recipes if r.regime == "bands"]
    assert abs(len(bands) / 2000 - weights["bands"] / sum(weights.values())) < 0.03
    assert all(r.camera_in_target for r in recipes)
    for r in bands:
        wide, *along = r.stacks
        assert 2 <= wide.width <= 7 and wide.threshold == 0.0 and 0 <= r.veil <= 0.15
        assert all(s.angle == wide.angle and s.width < 2 for s in along)  # thin streaks along the bands
    assert 0.3 < np.mean([len(r.stacks) == 2 for r in bands]) < 0.7


def _half_width(layer: np.ndarray) -> int:
    """Horizontal lag (px) where the layer's autocorrelation drops below one half."""
    spectrum = np.fft.rfft(layer - layer.mean(), axis=1)
    auto = np.fft.irfft(np.abs(spectrum) ** 2, axis=1).mean(axis=0)
    return int(np.argmax(auto / auto[0] < 0.5))


def test_bands_are_wider_than_every_streak_regime_of_real_mix_5() -> None:
    """What real-mix-6 adds: rain structures several pixels wide (sirr_val20's look), measured across
    upright renders (a tilted streak would look wide along a row)."""
    bg = np.full((96, 128, 3), 0.3, np.float32)

    def widths(regime: str, mixture: str) -> list[int]:
        rng, out = np.random.default_rng(1), []
        while len(out) < 6:
            recipe = draw_recipe(rng, None, mixture)
            if recipe.regime == regime:
                upright = tuple(dataclasses.replace(st, angle=0.0, angle_spread=0.0) for st in recipe.stacks)
                plain = dataclasses.replace(recipe, stacks=upright, soften=0.0, drops=0, degradation=Degradation())
                out.append(_half_width(render_recipe(bg, plain, rng).streaks[..., 0]))
        return out

    widest_band = max(widths("bands", "real-mix-6"))  # half the draws add thin streaks, which then dominate
    for regime in ("heavy", "rain100h", "broad", "misty", "near", "medium"):
        assert widest_band > 2 * max(widths(regime, "real-mix-5")), regime


def test_real_mix_2_scene_haze_stays_in_the_clean_target() -> None:
    """Haze that belongs to the scene is in B too: a model must not learn that haze alone means rain."""
    bg = smooth_image(48, 64)
    rng = np.random.default_rng(3)
    recipe = dataclasses.replace(
        MIXTURES["real-mix-2"].regimes["light"][1](rng), scene_haze=0.3, scene_airlight=0.9, degradation=NO_CAMERA
    )
    comp = render_recipe(bg, recipe, rng)
    np.testing.assert_allclose(comp.background, 0.7 * bg + 0.3 * 0.9, atol=1e-6)
    rain_free = comp.streaks.max(axis=2) == 0
    assert rain_free.any()
    np.testing.assert_allclose(comp.image[rain_free], comp.background[rain_free], atol=1e-6)
    plain = add_rain(bg, "real-mix", np.random.default_rng(0))
    assert plain.background is bg or np.array_equal(plain.background, bg)  # real-mix never hazes B


def test_real_mix_2_near_regime_draws_thick_bright_strokes() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        near = MIXTURES["real-mix-2"].regimes["near"][1](rng).stacks[0]
        assert near.width >= 1.8 and near.intensity >= 0.5
    bg = np.full((96, 96, 3), 0.3, np.float32)
    recipe = dataclasses.replace(MIXTURES["real-mix-2"].regimes["near"][1](rng), degradation=NO_CAMERA)
    assert render_recipe(bg, recipe, rng).image.max() > 0.7  # strokes well above the background


def test_real_mix_2_same_seed_byte_identical() -> None:
    bg = smooth_image(40, 40)
    for seed in range(8):
        a, b = (add_rain(bg, "real-mix-2", np.random.default_rng(seed)) for _ in range(2))
        assert a.image.tobytes() == b.image.tobytes() and a.background.tobytes() == b.background.tobytes()


def test_texture_source_resolution(tmp_path: Path, textures: Path) -> None:
    with pytest.raises(DatasetError, match="streak texture folder not found"):
        streak_source(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no streak images found"):
        streak_source(tmp_path / "empty")
    assert streak_source(textures) == textures


def test_texture_regime_draws_garg_nayar_streaks(shared_data: Path) -> None:
    folder = shared_data / "rain_streaks"
    bg = smooth_image(64, 96)
    rng = np.random.default_rng(1)
    recipe = next(r for r in iter(lambda: draw_recipe(rng, folder), None) if r.regime == "texture")
    assert recipe.stacks[0].texture_dir == folder
    comp = render_recipe(bg, dataclasses.replace(recipe, veil=0.0, drops=0, degradation=NO_CAMERA), rng)
    assert comp.streaks.max() > 0.2 and (comp.image >= bg - 1e-6).all()


def test_rain100h_regime_is_dense_but_translucent() -> None:
    """Rain100H's real pairs sit at 14.5 dB identity PSNR-Y; the regime must be near, not 11 dB white noise."""
    bg = np.full((128, 128, 3), 0.35, np.float32)
    psnrs = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        recipe = dataclasses.replace(REAL_MIX["rain100h"][1](rng), degradation=NO_CAMERA)
        mse = float(((render_recipe(bg, recipe, rng).image - bg).mean(axis=2) ** 2).mean())
        psnrs.append(10 * math.log10(1 / mse))
    assert 11.0 < float(np.mean(psnrs)) < 20.0


def test_rain_names_checked_in_one_line() -> None:
    check_rain_names("preset", ("real-mix", "medium"))
    with pytest.raises(
        ConfigError,
        match=r"^preset: unknown name 'drizzle' \(known: real-mix, real-mix-2, real-mix-3, real-mix-4, real-mix-5, "
        r"real-mix-6, real-mix-7, long-rain, near-rain, wind-rain, light",
    ):
        check_rain_names("preset", ("drizzle",))
    with pytest.raises(ConfigError, match=r"^preset: needs at least one name$"):
        check_rain_names("preset", ())
    with pytest.raises(ConfigError, match="a mixture"):
        get_preset("real-mix")


def test_real_mix_sequences_keep_one_regime_with_fresh_rain(textures: Path) -> None:
    bg = smooth_image(40, 48)
    frames = synth_timelapse(bg, 3, np.random.default_rng(4), preset="real-mix", streak_dir=textures)
    assert len({f.regime for f in frames}) == 1 and frames[0].regime
    assert all(f.background is frames[0].background for f in frames)
    assert not np.array_equal(frames[0].image, frames[1].image)
    again = synth_timelapse(bg, 3, np.random.default_rng(4), preset="real-mix", streak_dir=textures)
    assert all(a.image.tobytes() == b.image.tobytes() for a, b in zip(frames, again, strict=True))
    clip = synth_video(bg, 3, np.random.default_rng(5), preset="real-mix", out_size=(24, 32))
    assert len({f.regime for f in clip}) == 1 and clip[0].image.shape == (24, 32, 3)


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    from derain.data.io import write_image

    for i in range(2):
        write_image(tmp_path / "clean" / f"p{i}.png", smooth_image(40, 48, seed=i))
    return tmp_path / "clean"


def test_synthetic_pairs_default_to_real_mix_2_and_repeat(pool: Path) -> None:
    from derain.data.datasets import build_dataset

    ds = build_dataset("synthetic_pairs", clean_dir=str(pool), crop=32, seed=5)
    assert ds.options.preset == ("real-mix-2",)
    first, again = ds[3], build_dataset("synthetic_pairs", clean_dir=str(pool), crop=32, seed=5)[3]
    assert first["rain"].shape == (3, 32, 32) and first["rain"].numpy().tobytes() == again["rain"].numpy().tobytes()


def test_synthetic_rain_options_fail_in_one_line(pool: Path) -> None:
    from derain.data.datasets import build_dataset

    with pytest.raises(DatasetError, match=r"missing: streak texture folder not found \(streak_dir\)$"):
        build_dataset("synthetic_pairs", clean_dir=str(pool), streak_dir=str(pool.parent / "missing"))
    with pytest.raises(ConfigError, match=r"^synthetic_timelapse\.preset: unknown name 'real_mix'"):
        build_dataset("synthetic_timelapse", clean_dir=str(pool), preset="real_mix")
    clip = build_dataset("synthetic_video", clean_dir=str(pool), preset="real-mix", crop=16, frames=2)[0]
    assert clip["rain"].shape == (2, 3, 16, 16)


def test_soften_blurs_streaks_without_losing_rain() -> None:
    bg = np.zeros((64, 64, 3), np.float32)
    sharp_recipe = RainRecipe("test", (RainParams(density=0.003, intensity=0.8, layers=1),))
    sharp = render_recipe(bg, sharp_recipe, np.random.default_rng(2)).streaks
    soft = render_recipe(bg, dataclasses.replace(sharp_recipe, soften=1.5), np.random.default_rng(2)).streaks
    assert soft.max() < sharp.max()
    assert abs(float(soft.sum()) / float(sharp.sum()) - 1.0) < 0.1  # blurred, not erased


def test_real_mix_4_is_real_mix_3_with_half_the_camera_degradations() -> None:
    """Same regimes, veils and hazes draw for draw; each degradation about half as often."""
    rng3, rng4 = np.random.default_rng(5), np.random.default_rng(5)
    mix3 = [draw_recipe(rng3, None, "real-mix-3") for _ in range(2000)]
    mix4 = [draw_recipe(rng4, None, "real-mix-4") for _ in range(2000)]
    assert [(r.regime, r.veil, r.scene_haze) for r in mix3] == [(r.regime, r.veil, r.scene_haze) for r in mix4]
    jpeg3 = sum(r.degradation.jpeg_quality is not None for r in mix3) / 2000
    jpeg4 = sum(r.degradation.jpeg_quality is not None for r in mix4) / 2000
    noise4 = sum(r.degradation.noise > 0 for r in mix4) / 2000
    assert abs(jpeg3 - 0.8) < 0.03 and abs(jpeg4 - 0.4) < 0.03 and abs(noise4 - 0.25) < 0.03


def test_degrade_pair_gives_both_images_one_camera_and_the_input_degrade_would() -> None:
    image, background = smooth_image(40, 56), smooth_image(40, 56)[::-1].copy()
    camera = Degradation(blur=0.7, scale=0.6, noise=0.02, jpeg_quality=50)
    out, target = degrade_pair(image, background, camera, np.random.default_rng(4))
    assert np.array_equal(out, degrade(image, camera, np.random.default_rng(4)))
    same, same_target = degrade_pair(image, image, camera, np.random.default_rng(9))
    assert np.array_equal(same, same_target)  # one noise draw for both
    assert float(np.abs(target - background).mean()) > 1e-3


def test_real_mix_5_renders_real_mix_3_inputs_with_the_camera_in_the_target() -> None:
    """Seed for seed the rainy images are real-mix-3's; where the camera did something, so does B."""
    bg = smooth_image(48, 64)
    changed = 0
    for seed in range(12):
        three = add_rain(bg, "real-mix-3", np.random.default_rng(seed))
        five = add_rain(bg, "real-mix-5", np.random.default_rng(seed))
        assert np.array_equal(three.image, five.image)
        recipe = draw_recipe(np.random.default_rng(seed), None, "real-mix-5")
        if recipe.degradation == Degradation():
            assert np.array_equal(three.background, five.background)
        else:
            changed += not np.array_equal(three.background, five.background)
    assert changed >= 6
