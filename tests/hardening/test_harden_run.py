"""Issue #10, defect 11: ``derain run`` resumes, keeps colour profiles, names what it cannot read."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from conftest import run_cli, smooth_image
from derain.data.io import write_image


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR claims ``width`` x ``height`` and whose pixel data is a few zero bytes."""

    def chunk(body: bytes) -> bytes:
        return struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(ihdr) + chunk(b"IDAT" + zlib.compress(b"\0" * 64)) + chunk(b"IEND"))
    return path


def test_skip_existing_resumes_a_folder_run(tmp_path: Path, tiny_weights: Path) -> None:
    for i in range(3):
        write_image(tmp_path / "in" / f"{i}.png", smooth_image(16, 16, seed=i))
    out = tmp_path / "out"
    write_image(out / "1.png", smooth_image(16, 16, seed=9))  # from an interrupted run
    before = (out / "1.png").read_bytes()
    done = run_cli("run", tmp_path / "in", "-o", out, "--weights", tiny_weights, "--skip-existing")
    assert done.returncode == 0, done.stderr
    assert "1 output(s) already exist" in done.stderr
    assert (out / "1.png").read_bytes() == before and (out / "0.png").is_file() and (out / "2.png").is_file()
    done = run_cli("run", tmp_path / "in", "-o", out, "--weights", tiny_weights)
    assert done.returncode == 2 and "--skip-existing" in done.stderr


def test_icc_profile_is_kept(tmp_path: Path, tiny_weights: Path) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = (smooth_image(16, 16) * 255).astype(np.uint8)
    for suffix in (".png", ".jpg"):
        Image.fromarray(pixels).save(tmp_path / f"p{suffix}", icc_profile=icc)
        done = run_cli("run", tmp_path / f"p{suffix}", "-o", tmp_path / "out", "--weights", tiny_weights)
        assert done.returncode == 0, done.stderr
        assert Image.open(tmp_path / "out" / f"p{suffix}").info.get("icc_profile") == icc


def test_gif_and_multipage_tiff_are_named_never_silently_skipped(tmp_path: Path, tiny_weights: Path) -> None:
    folder = tmp_path / "in"
    write_image(folder / "a.png", smooth_image(16, 16))
    frames = [Image.fromarray((smooth_image(16, 16, seed=i) * 255).astype(np.uint8)) for i in range(2)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "pages.tif", save_all=True, append_images=frames[1:])
    done = run_cli("run", folder, "-o", tmp_path / "out", "--weights", tiny_weights)
    assert done.returncode == 1, done.stderr
    assert any("anim.gif" in line and "GIF is not supported" in line for line in done.stderr.splitlines())
    assert any("pages.tif" in line and "2 pages" in line for line in done.stderr.splitlines())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "pages.tif"]


def test_tile_error_names_only_what_the_user_can_set(tmp_path: Path, tiny_weights: Path) -> None:
    image = write_image(tmp_path / "in.png", smooth_image(16, 16))
    done = run_cli("run", image, "-o", tmp_path / "out", "--weights", tiny_weights, "--tile", "40")
    assert done.returncode == 2 and "--tile 40" in done.stderr and "overlap 32" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_max_pixels_applies_above_pillows_own_limit(tmp_path: Path, tiny_weights: Path) -> None:
    huge = _png_header_only(tmp_path / "huge.png", 20_000, 10_000)  # 200 Mpx: past Pillow's 179 Mpx guard
    done = run_cli("run", huge, "-o", tmp_path / "out", "--weights", tiny_weights, "--max-pixels", "300000000")
    assert done.returncode == 1 and "huge.png" in done.stderr
    problem = done.stderr.split(str(huge))[-1]
    assert "decompression-bomb" not in problem and "max_pixels" not in problem  # read, then found unreadable
    done = run_cli("run", huge, "-o", tmp_path / "out", "--weights", tiny_weights)
    assert done.returncode == 1 and "max_pixels=120000000" in done.stderr
