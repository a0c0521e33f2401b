"""Issue #10, defects 6 and 12 (synth): whole-folder atomic datasets, no stale frames, unreadable photos skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli, smooth_image
from derain.data.io import list_images, write_image


@pytest.fixture
def clean_dir(tmp_path: Path) -> Path:
    for i in range(2):
        write_image(tmp_path / "clean" / f"photo{i}.png", smooth_image(24, 32, seed=i))
    return tmp_path / "clean"


@pytest.mark.parametrize("kind", ["timelapse", "video"])
def test_rerun_with_fewer_frames_leaves_no_stale_frames(clean_dir: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    base = ("synth", kind, "--clean", clean_dir, "--out", out, "--count", "1")
    assert run_cli(*base, "--frames", "4").returncode == 0
    done = run_cli(*base, "--frames", "2")
    assert done.returncode == 2 and "--overwrite" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert run_cli(*base, "--frames", "2", "--overwrite").returncode == 0
    frames = out / "0000_photo0" / "rain"
    assert len(list_images(frames)) == 2


def test_unreadable_clean_photo_is_skipped_and_a_failure_leaves_nothing(clean_dir: Path, tmp_path: Path) -> None:
    (clean_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    out = tmp_path / "out"
    done = run_cli("synth", "pairs", "--clean", clean_dir, "--out", out, "--count", "3")
    assert done.returncode == 1, done.stderr
    skipped = [line for line in done.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "broken.png" in skipped[0]
    assert len(list_images(out / "rain")) == 3 and len(list_images(out / "clean")) == 3
    (clean_dir / "photo0.png").write_bytes(b"junk")
    (clean_dir / "photo1.png").write_bytes(b"junk")
    done = run_cli("synth", "pairs", "--clean", clean_dir, "--out", tmp_path / "none", "--count", "3")
    assert done.returncode == 2 and "none of the clean photos" in done.stderr
    assert not (tmp_path / "none").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["clean", "out"]


@pytest.mark.parametrize(
    ("kind", "option", "value"),
    [
        ("video", "--fps", "0"),
        ("video", "--fps", "-5"),
        ("video", "--fps", "nan"),
        ("video", "--fps", "inf"),
        ("timelapse", "--jpeg", "200"),
        ("timelapse", "--noise", "-1"),
    ],
)
def test_bad_numbers_are_one_line_usage_errors(clean_dir: Path, tmp_path: Path, kind: str, option: str, value: str):
    done = run_cli("synth", kind, "--clean", clean_dir, "--out", tmp_path / "o", option, value)
    assert done.returncode == 2 and option in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
