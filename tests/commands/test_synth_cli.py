"""``derain synth`` through the real CLI: layouts, byte-identical reruns, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli, smooth_image
from derain.data.io import read_rgb, write_image


@pytest.fixture
def clean_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "clean_in"
    for i, (h, w) in enumerate([(60, 80), (72, 56)]):
        write_image(folder / f"photo{i}.png", smooth_image(h, w, seed=i))
    return folder


def _files(root: Path) -> dict[str, bytes]:
    """The dataset's files (derain's hidden ownership markers left out)."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_pairs_layout_and_byte_identical_rerun(clean_dir: Path, tmp_path: Path) -> None:
    args = ["pairs", "--clean", clean_dir, "--count", "3", "--preset", "heavy", "--seed", "4"]
    runs = [run_cli("synth", *args, "--out", tmp_path / name, "--composition", "occlusion") for name in ("a", "b")]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    names = ["0000_photo0.png", "0001_photo1.png", "0002_photo0.png"]
    assert set(a) == {f"{d}/{n}" for d in ("rain", "clean") for n in names} | {"contact_sheet.png"}
    assert a == b
    rain, clean = read_rgb(tmp_path / "a/rain/0002_photo0.png"), read_rgb(tmp_path / "a/clean/0002_photo0.png")
    assert rain.shape == clean.shape == (60, 80, 3) and (rain - clean).mean() > 0.02
    other = run_cli("synth", *args[:-1], "5", "--out", tmp_path / "c", "--composition", "occlusion")
    assert other.returncode == 0 and _files(tmp_path / "c")["rain/0000_photo0.png"] != a["rain/0000_photo0.png"]


def test_timelapse_layout_keeps_clean_apart(clean_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tl"
    r = run_cli(
        "synth", "timelapse", "--clean", clean_dir, "--out", out, "--count", "2", "--frames", "3", "--jpeg", "90"
    )
    assert r.returncode == 0, r.stderr
    scene = out / "0001_photo1"
    assert sorted(p.name for p in (scene / "rain").iterdir()) == ["000.png", "001.png", "002.png"]
    assert sorted(p.name for p in scene.iterdir()) == ["clean.png", "rain"]
    frames = [read_rgb(p) for p in sorted((scene / "rain").iterdir())]
    assert frames[0].shape == read_rgb(scene / "clean.png").shape == (72, 56, 3)
    assert (frames[0] != frames[1]).any()
    assert (out / "contact_sheet.png").is_file()


def test_video_layout_with_fps_and_ground_truth(clean_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "vid"
    r = run_cli("synth", "video", "--clean", clean_dir, "--out", out, "--count", "1", "--frames", "4", "--size", "50")
    assert r.returncode == 0, r.stderr
    clip = out / "0000_photo0"
    for part in ("rain", "clean"):
        names = sorted(p.name for p in (clip / part).iterdir() if not p.name.startswith("."))
        assert names == ["000001.png", "000002.png", "000003.png", "000004.png", "fps.txt"]
    assert read_rgb(clip / "rain/000001.png").shape == (30, 40, 3)  # 50 px long side, 80 % window
    assert (read_rgb(clip / "clean/000001.png") != read_rgb(clip / "clean/000004.png")).any()  # camera moved


def test_unknown_preset_is_one_line_listing_presets(clean_dir: Path, tmp_path: Path) -> None:
    r = run_cli("synth", "pairs", "--clean", clean_dir, "--out", tmp_path / "o", "--preset", "drizzle")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "'drizzle'" in r.stderr and "rain100l-like" in r.stderr
    assert not (tmp_path / "o").exists()


def test_pairs_default_to_real_mix_2_byte_identical(clean_dir: Path, tmp_path: Path) -> None:
    args = ["synth", "pairs", "--clean", clean_dir, "--count", "2", "--seed", "3"]
    runs = [run_cli(*args, "--out", tmp_path / name) for name in ("a", "b")]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    explicit = run_cli(*args, "--out", tmp_path / "c", "--preset", "real-mix-2")
    assert explicit.returncode == 0 and _files(tmp_path / "c") == _files(tmp_path / "a")


def test_sheet_puts_samples_next_to_real_photos(clean_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    write_image(real / "r0.jpg", smooth_image(50, 70, seed=9))
    args = ["synth", "sheet", "--clean", clean_dir, "--real", real, "--count", "4", "--size", "64"]
    runs = [run_cli(*args, "--out", tmp_path / name) for name in ("a", "b")]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert set(_files(tmp_path / "a")) == {"contact_sheet.png"} and _files(tmp_path / "a") == _files(tmp_path / "b")
    sheet = read_rgb(tmp_path / "a" / "contact_sheet.png")
    assert sheet.shape[0] == 2 * (256 + 2)  # 4 samples, 3 a row: two rows, each led by the real photo
    again = run_cli(*args, "--out", tmp_path / "a")
    assert again.returncode != 0 and again.stderr.count("\n") == 1  # no silent overwrite
    assert run_cli(*args, "--out", tmp_path / "a", "--overwrite").returncode == 0


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["timelapse", "--preset", "real-mix", "--streaks", "gone"], "gone: streak texture folder not found"),
        (["pairs", "--real", "."], "--real: applies to `derain synth sheet` only"),
        (["pairs", "--streaks", "no_such_dir"], "no_such_dir: streak texture folder not found"),
        (["sheet", "--real", "no_such_dir"], "no_such_dir: no such folder"),
    ],
)
def test_bad_synthesis_options_are_one_line(clean_dir: Path, tmp_path: Path, extra: list[str], needle: str) -> None:
    r = run_cli("synth", *extra, "--clean", clean_dir, "--out", tmp_path / "o", cwd=tmp_path)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
