"""derain.data.pairing on real (tiny) image files laid out like the field's datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from derain.data.pairing import find_paired_layout, pair_folders, pair_key
from derain.errors import DatasetError


def touch_images(folder: Path, *names: str) -> list[Path]:
    """Write a 4x4 image per name (format from the suffix)."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((4, 4, 3), np.uint8)
    for name in names:
        Image.fromarray(pixels).save(folder / name)
    return [folder / name for name in names]


def pair_names(pairs: list[tuple[Path, Path]]) -> list[tuple[str, str]]:
    return [(a.name, b.name) for a, b in pairs]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("001.png", "1"),
        ("rain-001.png", "1"),
        ("norain-001.png", "1"),
        ("input12.png", "12"),
        ("norain12.png", "12"),
        ("Street_Rain.jpg", "street"),
        ("street-gt.png", "street"),
        ("rainbow.png", "rainbow"),  # a marker word only counts before a separator or a number
        ("rain.png", "rain"),
        ("901_3.jpg", "901_3"),
    ],
)
def test_pair_key(name: str, key: str) -> None:
    assert pair_key(name) == key


@pytest.mark.parametrize(
    ("rain_names", "clean_names", "expected"),
    [
        (["001.png", "002.png"], ["001.png", "002.png"], [("001.png", "001.png"), ("002.png", "002.png")]),
        (
            ["rain-2.png", "rain-10.png"],
            ["norain-10.png", "norain-2.png"],
            [("rain-2.png", "norain-2.png"), ("rain-10.png", "norain-10.png")],
        ),
        (["input1.png"], ["norain001.png"], [("input1.png", "norain001.png")]),
        (
            ["a_rain.png", "b_rain.png"],
            ["a_gt.png", "b_clean.png"],
            [("a_rain.png", "a_gt.png"), ("b_rain.png", "b_clean.png")],
        ),
        (["x.png"], ["x.jpg"], [("x.png", "x.jpg")]),  # derained .png against a clean .jpg
        (["x.png"], ["x.jpg", "x.png"], None),  # exact name wins over the key
        (
            ["901_1.jpg", "901_2.jpg", "902_1.jpg"],
            ["901.jpg", "902.jpg"],
            [("901_1.jpg", "901.jpg"), ("901_2.jpg", "901.jpg"), ("902_1.jpg", "902.jpg")],
        ),
    ],
)
def test_pair_folders_conventions(
    tmp_path: Path, rain_names: list[str], clean_names: list[str], expected: list | None
) -> None:
    touch_images(tmp_path / "rain", *rain_names)
    touch_images(tmp_path / "clean", *clean_names)
    if expected is None:
        with pytest.raises(DatasetError, match=r"1 unpaired in clean/ \(x.jpg\)"):
            pair_folders(tmp_path / "rain", tmp_path / "clean")
    else:
        assert pair_names(pair_folders(tmp_path / "rain", tmp_path / "clean")) == expected


def test_unpaired_files_are_listed_with_a_count(tmp_path: Path) -> None:
    touch_images(tmp_path / "out", *[f"{i:03d}.png" for i in range(1, 10)])
    touch_images(tmp_path / "clean", "001.png", "extra.png")
    with pytest.raises(DatasetError) as err:
        pair_folders(tmp_path / "out", tmp_path / "clean")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'out'}: cannot pair with {tmp_path / 'clean'}")
    assert "8 unpaired in out/ (002.png, 003.png, 004.png, 005.png, 006.png, +3 more)" in message
    assert "1 unpaired in clean/ (extra.png)" in message
    assert "\n" not in message


def test_two_files_claiming_one_partner_is_ambiguous(tmp_path: Path) -> None:
    touch_images(tmp_path / "out", "x.png", "x.jpg")
    touch_images(tmp_path / "clean", "x.png")
    with pytest.raises(DatasetError, match="ambiguous"):
        pair_folders(tmp_path / "out", tmp_path / "clean")


def test_key_matching_several_partners_is_ambiguous(tmp_path: Path) -> None:
    touch_images(tmp_path / "out", "rain-1.png")
    touch_images(tmp_path / "clean", "001.png", "1.jpg")
    with pytest.raises(DatasetError, match=r"rain-1.png: ambiguous, pairs with 1.jpg, 001.png in "):
        pair_folders(tmp_path / "out", tmp_path / "clean")


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    touch_images(tmp_path / "clean", "1.png")
    with pytest.raises(DatasetError, match="out: no images found"):
        pair_folders(tmp_path / "out", tmp_path / "clean")


@pytest.mark.parametrize(
    ("rain", "clean"), [("rain", "clean"), ("Rainy", "GT"), ("input", "target"), ("rain", "norain")]
)
def test_find_paired_layout(tmp_path: Path, rain: str, clean: str) -> None:
    for name in (rain, clean, "extras"):
        (tmp_path / name).mkdir()
    assert find_paired_layout(tmp_path) == (tmp_path / rain, tmp_path / clean)


@pytest.mark.parametrize(
    ("folders", "match"),
    [
        (["rain"], "one clean sub-folder named clean/norain/.*found none"),
        (["rain", "rainy", "clean"], "one rain sub-folder .* found rain, rainy"),
        ([], "one rain sub-folder"),
    ],
)
def test_find_paired_layout_errors(tmp_path: Path, folders: list[str], match: str) -> None:
    for name in folders:
        (tmp_path / name).mkdir()
    with pytest.raises(DatasetError, match=match):
        find_paired_layout(tmp_path)


def test_find_paired_layout_missing_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        find_paired_layout(tmp_path / "nope")
