"""Tests for derain.data.datasets: real tiny folders on disk, real DataLoader workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from derain.data.datasets import DATASETS, build_dataset
from derain.data.video import VideoWriter
from derain.errors import ConfigError, DatasetError

STEP = 10  # brightness step between successive frames of a sequence (uint8 levels)


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Random uint8 texture in [0, 200]: every window is distinct, and +STEP offsets never clip."""
    return np.random.default_rng(seed).integers(0, 201, (h, w, 3), dtype=np.uint8)


def _save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _sequence(folder: Path, n: int, h: int = 24, w: int = 40, seed: int = 0) -> None:
    """Frame k = one texture + k * STEP: frames differ by a constant iff they share a window."""
    base = _texture(h, w, seed)
    for k in range(n):
        _save(folder / f"{k + 1:03d}.png", base + np.uint8(k * STEP))


def _offsets(frames: torch.Tensor) -> torch.Tensor:
    """Per-frame difference to frame 0, which is spatially constant when all frames share one window."""
    return (frames - frames[:1]) * 255


def _assert_same_window(frames: torch.Tensor) -> torch.Tensor:
    diff = _offsets(frames)
    flat = diff.flatten(1)
    assert torch.allclose(flat, flat[:, :1].expand_as(flat), atol=1e-3), "frames were cropped at different windows"
    return flat[:, 0].round()


@pytest.fixture
def photo_pool(tmp_path: Path) -> Path:
    """A clean pool with two sub-sets; ``small/`` holds a photo smaller than the crops used."""
    root = tmp_path / "clean"
    for i in range(3):
        _save(root / "setA" / f"a{i}.png", _texture(48, 64, seed=i))
    _save(root / "setB" / "b0.jpg", _texture(40, 56, seed=7))
    _save(root / "small" / "s0.png", _texture(20, 30, seed=8))
    return root


# ------------------------------------------------------------------------------------- config checks


def test_registry_has_every_kind() -> None:
    expected = {"paired_folder", "synthetic_pairs", "timelapse_folder", "synthetic_timelapse"}
    assert expected | {"video_folder", "synthetic_video", "php_intensity", "hybrid_clips"} == set(DATASETS.names())


def test_unknown_kind_is_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown dataset 'synthetic_pair'.*did you mean synthetic_pairs"):
        build_dataset("synthetic_pair")


def test_unknown_option_names_key_and_suggests(photo_pool: Path) -> None:
    with pytest.raises(ConfigError, match=r"^synthetic_pairs\.crpo: unknown key; did you mean synthetic_pairs\.crop\?"):
        build_dataset("synthetic_pairs", clean_dir=str(photo_pool), crpo=32)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"crop": -4}, r"^synthetic_timelapse\.crop: must be >= 1 \(got -4\)"),
        ({"crop": "big"}, r"^synthetic_timelapse\.crop: expected int or null \(got 'big'\)"),
        ({"flip": 1}, r"^synthetic_timelapse\.flip: expected bool"),
        ({"frames": 1}, r"^synthetic_timelapse\.frames: must be >= 2 \(got 1\)"),
        ({"preset": ["medium", "drizzle"]}, r"^synthetic_timelapse\.preset: unknown name 'drizzle'"),
        ({"composition": []}, r"^synthetic_timelapse\.composition: needs at least one name"),
        ({"exclude": ["setC"]}, r"^synthetic_timelapse\.exclude: no sub-folder named 'setC'"),
        ({"length": 0}, r"^synthetic_timelapse\.length: must be >= 1"),
    ],
)
def test_bad_option_value_names_key(photo_pool: Path, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_dataset("synthetic_timelapse", clean_dir=str(photo_pool), **options)


def test_missing_required_option() -> None:
    with pytest.raises(ConfigError, match=r"^video_folder\.root: required key is missing"):
        build_dataset("video_folder", crop=8)
    with pytest.raises(ConfigError, match=r"^timelapse_folder\.root: required \(or scenes\)"):
        build_dataset("timelapse_folder", crop=8)


def test_yaml_values_are_normalised(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_pairs", clean_dir=str(photo_pool), preset="light", composition=["screen"], haze=0)
    assert ds.options.preset == ("light",)
    assert ds.options.composition == ("screen",)
    assert ds.options.haze == 0.0 and isinstance(ds.options.haze, float)


# ------------------------------------------------------------------------------------- paired folders


def _paired(root: Path, rain: str, clean: str, names: list[tuple[str, str]]) -> None:
    for i, (rain_name, clean_name) in enumerate(names):
        pixels = _texture(20, 28, seed=i)
        _save(root / rain / rain_name, pixels)
        _save(root / clean / clean_name, pixels)


@pytest.mark.parametrize(
    ("rain", "clean", "names"),
    [
        ("rain", "clean", [("001.png", "001.png"), ("002.png", "002.png")]),
        ("rain", "norain", [("rain-1.png", "norain-1.png"), ("rain-2.png", "norain-2.png")]),
        ("input", "label", [("input1.png", "norain1.png"), ("input2.png", "norain2.png")]),
    ],
)
def test_paired_folder_detects_layout(tmp_path: Path, rain: str, clean: str, names: list[tuple[str, str]]) -> None:
    _paired(tmp_path, rain, clean, names)
    ds = build_dataset("paired_folder", root=str(tmp_path), crop=12, flip=True)
    assert len(ds) == 2
    for index in range(len(ds)):
        item = ds[index]
        assert item["name"] == names[index][0]
        assert item["rain"].shape == (3, 12, 12) and item["rain"].dtype == torch.float32
        assert torch.equal(item["rain"], item["clean"])  # identical files -> identical windows and flips


def test_paired_folder_explicit_dirs_full_size(tmp_path: Path) -> None:
    _paired(tmp_path, "x", "y", [("a.png", "a.png")])
    item = build_dataset("paired_folder", rain_dir=str(tmp_path / "x"), clean_dir=str(tmp_path / "y"))[0]
    assert item["rain"].shape == (3, 20, 28)
    expected = torch.from_numpy(_texture(20, 28, seed=0)).permute(2, 0, 1).float() / 255
    assert torch.allclose(item["clean"], expected, atol=1e-6)


def test_paired_folder_lists_unpaired_files(tmp_path: Path) -> None:
    _paired(tmp_path, "rain", "clean", [("001.png", "001.png"), ("002.png", "002.png")])
    _save(tmp_path / "rain" / "orphan.png", _texture(20, 28))
    with pytest.raises(DatasetError, match=r"unpaired in rain/ \(orphan\.png\)"):
        build_dataset("paired_folder", root=str(tmp_path))


def test_paired_folder_needs_one_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^paired_folder\.root: give either root or rain_dir"):
        build_dataset("paired_folder", root=str(tmp_path), rain_dir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"^paired_folder\.clean_dir: required together with rain_dir"):
        build_dataset("paired_folder", rain_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="missing: paired dataset folder not found"):
        build_dataset("paired_folder", root=str(tmp_path / "missing"))


def test_paired_folder_size_mismatch_names_file(tmp_path: Path) -> None:
    _save(tmp_path / "rain" / "a.png", _texture(20, 28))
    _save(tmp_path / "clean" / "a.png", _texture(21, 28))
    ds = build_dataset("paired_folder", root=str(tmp_path))
    with pytest.raises(DatasetError, match=r"clean/a\.png: image is 28x21 but a\.png is 28x20"):
        ds[0]


# ------------------------------------------------------------------------------------- time-lapse folders


@pytest.fixture
def timelapse_root(tmp_path: Path) -> Path:
    """Two scenes: frames directly in the folder, and frames in rain/; both with a white clean.png."""
    root = tmp_path / "timelapse"
    _sequence(root / "scene_a", 4, seed=1)
    _sequence(root / "scene_b" / "rain", 3, seed=2)
    white = np.full((24, 40, 3), 255, np.uint8)
    _save(root / "scene_a" / "clean.png", white)
    _save(root / "scene_b" / "clean.png", white)
    _save(root / "scene_b" / "rain" / "clean.png", white)
    return root


def test_timelapse_folder_items(timelapse_root: Path) -> None:
    ds = build_dataset("timelapse_folder", root=str(timelapse_root), crop=16, flip=True, seed=3)
    assert len(ds) == 4 + 3  # one item per rainy frame; clean.png is not a frame
    for epoch in range(3):
        ds.set_epoch(epoch)
        for index in range(len(ds)):
            item = ds[index]
            assert set(item) == {"frames"}  # the no-ground-truth guarantee
            assert item["frames"].shape == (2, 3, 16, 16) and item["frames"].dtype == torch.float32
            offset = _assert_same_window(item["frames"])[1]
            assert offset != 0 and offset % STEP == 0  # two different frames of the sequence
            assert (item["frames"] < 1).any(dim=(1, 2, 3)).all()  # never the all-white clean image


def test_timelapse_folder_first_frame_is_the_indexed_one(timelapse_root: Path) -> None:
    ds = build_dataset("timelapse_folder", root=str(timelapse_root))
    for index, k in [(0, 0), (3, 3), (4, 0), (6, 2)]:  # scene_a frames 0-3, then scene_b frames 0-2
        frames = ds[index]["frames"]
        scene_seed, scene_frame = (1, k) if index < 4 else (2, k)
        expected = torch.from_numpy(_texture(24, 40, scene_seed) + np.uint8(scene_frame * STEP))
        assert torch.allclose(frames[0], expected.permute(2, 0, 1).float() / 255, atol=1e-6)


def test_timelapse_folder_errors(tmp_path: Path) -> None:
    _sequence(tmp_path / "one_frame", 1)
    _save(tmp_path / "one_frame" / "clean.png", _texture(24, 40))
    with pytest.raises(DatasetError, match="one_frame: a time-lapse scene needs at least 2 rainy frames, found 1"):
        build_dataset("timelapse_folder", root=str(tmp_path))
    with pytest.raises(DatasetError, match="no scene sub-folders"):
        build_dataset("timelapse_folder", root=str(tmp_path / "one_frame"))


# ------------------------------------------------------------------------------------- video folders


def test_video_folder_consecutive_frames_in_order(tmp_path: Path) -> None:
    _sequence(tmp_path / "clip1" / "rain", 6, seed=1)
    _sequence(tmp_path / "clip1" / "clean", 6, seed=1)
    _sequence(tmp_path / "clip2" / "rain", 4, seed=2)
    _sequence(tmp_path / "clip2" / "clean", 4, seed=2)
    ds = build_dataset("video_folder", root=str(tmp_path), frames=3, crop=16, flip=True)
    assert len(ds) == (6 - 3 + 1) + (4 - 3 + 1)
    for index in range(len(ds)):
        item = ds[index]
        assert item["rain"].shape == item["clean"].shape == (3, 3, 16, 16)
        assert _assert_same_window(item["rain"]).tolist() == [0, STEP, 2 * STEP]
        assert torch.equal(item["rain"], item["clean"])  # same window and flip for rain and clean
    whole = build_dataset("video_folder", root=str(tmp_path), frames=3)
    for index, (seed, start) in enumerate([(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]):
        expected = torch.from_numpy(_texture(24, 40, seed) + np.uint8(start * STEP)).permute(2, 0, 1) / 255
        assert torch.allclose(whole[index]["rain"][0], expected.float(), atol=1e-6)


def test_video_folder_stride_and_single_clip_root(tmp_path: Path) -> None:
    _sequence(tmp_path / "rain", 7)
    ds = build_dataset("video_folder", root=str(tmp_path), frames=2, stride=3)
    assert len(ds) == 2  # starts 0 and 3
    item = ds[1]
    assert set(item) == {"rain"}  # real clip without ground truth
    expected = torch.from_numpy(_texture(24, 40) + np.uint8(3 * STEP)).permute(2, 0, 1).float() / 255
    assert torch.allclose(item["rain"][0], expected, atol=1e-6)


def test_video_folder_reads_video_files(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "clip.mp4", fps=10) as writer:
        for k in range(5):
            writer.write(np.full((32, 48, 3), 0.1 + 0.15 * k, np.float32))
    ds = build_dataset("video_folder", root=str(tmp_path), frames=3)
    assert len(ds) == 3
    rain = ds[1]["rain"]
    assert rain.shape == (3, 3, 32, 48)
    means = rain.mean(dim=(1, 2, 3))
    assert torch.allclose(means, torch.tensor([0.25, 0.4, 0.55]), atol=0.03)


def test_video_folder_errors(tmp_path: Path) -> None:
    _sequence(tmp_path / "with_gt" / "rain", 3)
    _sequence(tmp_path / "with_gt" / "clean", 3)
    _sequence(tmp_path / "real", 3)
    with pytest.raises(DatasetError, match="with_gt: has clean frames but clip real has none"):
        build_dataset("video_folder", root=str(tmp_path), frames=2)
    with pytest.raises(DatasetError, match="with_gt: 3 frames, fewer than frames=4"):
        build_dataset("video_folder", root=str(tmp_path / "with_gt"), frames=4)


# ------------------------------------------------------------------------------------- synthetic kinds


@pytest.mark.parametrize(
    ("kind", "shapes"),
    [
        ("synthetic_pairs", {"rain": (3, 32, 32), "clean": (3, 32, 32), "mask": (1, 32, 32)}),
        ("synthetic_timelapse", {"frames": (2, 3, 32, 32)}),
        ("synthetic_video", {"rain": (4, 3, 32, 32), "clean": (4, 3, 32, 32)}),
    ],
)
def test_synthetic_item_shapes(photo_pool: Path, kind: str, shapes: dict) -> None:
    extra = {} if kind == "synthetic_pairs" else {"frames": 4}
    ds = build_dataset(kind, clean_dir=str(photo_pool), crop=32, length=12, flip=True, **extra)
    assert len(ds) == 12
    for index in range(len(ds)):  # includes the 20x30 photo, upscaled to fit the crop
        item = ds[index]
        assert {key: tuple(value.shape) for key, value in item.items() if key != "name"} == shapes
        assert all(value.dtype == torch.float32 for value in item.values() if isinstance(value, torch.Tensor))
        assert all(value.min() >= 0 and value.max() <= 1 for value in item.values() if isinstance(value, torch.Tensor))


def test_synthetic_pairs_add_rain_on_the_clean_crop(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_pairs", clean_dir=str(photo_pool), crop=32, length=8, preset="heavy")
    for index in range(len(ds)):
        item = ds[index]
        assert (item["rain"] >= item["clean"] - 1e-6).all()  # additive rain only brightens
        assert (item["rain"] - item["clean"]).abs().amax() > 0.1


def test_synthetic_timelapse_frames_differ_but_share_the_background(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_timelapse", clean_dir=str(photo_pool), crop=32, length=6, frames=5, preset="light")
    for index in range(len(ds)):
        item = ds[index]
        assert set(item) == {"frames"}
        first, second = item["frames"]
        assert not torch.equal(first, second)
        # one background window under independent light rain: most pixels are rain-free in both frames
        # (two different windows of the random-texture photos would match at ~0.5 % of pixels)
        assert (first == second).float().mean() > 0.3


def test_synthetic_is_deterministic_and_varies_with_epoch_index_and_seed(photo_pool: Path) -> None:
    def build(seed: int = 0):
        return build_dataset("synthetic_pairs", clean_dir=str(photo_pool), crop=24, length=4, flip=True, seed=seed)

    ds, twin = build(), build()
    assert torch.equal(ds[2]["rain"], twin[2]["rain"])
    assert not torch.equal(ds[2]["rain"], ds[3]["rain"])
    assert not torch.equal(ds[2]["rain"], build(seed=1)[2]["rain"])
    epoch0 = ds[2]["rain"]
    ds.set_epoch(1)
    assert ds.epoch == 1
    assert not torch.equal(ds[2]["rain"], epoch0)
    ds.set_epoch(0)
    assert torch.equal(ds[2]["rain"], epoch0)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        ds.set_epoch(-1)
    with pytest.raises(IndexError):
        ds[4]


def test_synthetic_seeding_ignores_global_rng(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_timelapse", clean_dir=str(photo_pool), crop=24, length=2)
    np.random.seed(1)
    torch.manual_seed(1)
    first = ds[0]["frames"]
    np.random.seed(2)
    torch.manual_seed(2)
    assert torch.equal(first, ds[0]["frames"])


def test_synthetic_exclude_leaves_out_sub_folders(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_pairs", clean_dir=str(photo_pool), exclude=["setA", "small"], crop=16, length=10)
    assert [path.name for path in ds.photos] == ["b0.jpg"]
    assert {ds[index]["name"] for index in range(len(ds))} == {"b0.jpg"}


def test_synthetic_missing_pool_is_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nowhere: clean photo folder not found"):
        build_dataset("synthetic_pairs", clean_dir=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty: no clean photos found"):
        build_dataset("synthetic_pairs", clean_dir=str(tmp_path / "empty"))


# ------------------------------------------------------------------------------------- DataLoader workers


def _epochs(loader: DataLoader, epochs: list[int]) -> list[torch.Tensor]:
    batches = []
    for epoch in epochs:
        loader.dataset.set_epoch(epoch)
        batches.extend(batch["frames"] for batch in loader)
    return batches


def test_dataloader_workers_match_single_process(photo_pool: Path) -> None:
    ds = build_dataset("synthetic_timelapse", clean_dir=str(photo_pool), crop=16, length=6, flip=True)
    serial = _epochs(DataLoader(ds, batch_size=2, num_workers=0), [0, 1])
    parallel = _epochs(DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True), [0, 1])
    assert len(serial) == len(parallel) == 6
    for expected, got in zip(serial, parallel, strict=True):
        assert torch.equal(expected, got)
    assert not torch.equal(serial[0], serial[3])  # epoch 1 differs from epoch 0, also in persistent workers


# ------------------------------------------------------------------------------------- shared data


@pytest.mark.shared
def test_synthetic_pairs_on_the_shared_pool(shared_data: Path) -> None:
    ds = build_dataset("synthetic_pairs", clean_dir=str(shared_data / "clean"), exclude=["Kodak24"], length=3)
    assert len(ds.photos) > 500
    assert not any("Kodak24" in path.parts for path in ds.photos)
    assert ds[0]["rain"].shape == (3, 128, 128)
