"""Image and video I/O: real files on disk, real encoders and decoders."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from conftest import smooth_image
from derain.atomic import atomic_path
from derain.data import io, video
from derain.errors import ImageReadError, ImageTooLargeError, VideoReadError, WriteError
from derain.outputs import MARKER

TOL8 = 0.5 / 255 + 1e-6  # 8-bit quantisation plus float32 rounding


def _u16(h: int, w: int, c: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, size=(h, w, c), dtype=np.uint16)


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".tmp" in p.name]


# ------------------------------------------------------------------------------------- 8-bit round trips


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tiff"])
def test_lossless_8bit_round_trip(tmp_path: Path, tiny_image: np.ndarray, suffix: str) -> None:
    path = io.write_image(tmp_path / f"a{suffix}", tiny_image)
    loaded = io.read_image(path)
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.shape == tiny_image.shape
    assert loaded.bit_depth == 8 and loaded.alpha is None and loaded.mode == "RGB"
    assert np.abs(loaded.rgb - tiny_image).max() <= TOL8
    assert _no_temp_files(tmp_path)


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".webp"])
def test_lossy_8bit_round_trip(tmp_path: Path, tiny_image: np.ndarray, suffix: str) -> None:
    rgb = io.read_rgb(io.write_image(tmp_path / f"a{suffix}", tiny_image, quality=95))
    assert rgb.shape == tiny_image.shape
    assert np.abs(rgb - tiny_image).mean() < 0.02


def test_16bit_requested_for_jpeg_gives_8bit(tmp_path: Path, tiny_image: np.ndarray) -> None:
    loaded = io.read_image(io.write_image(tmp_path / "a.jpg", tiny_image, bit_depth=16))
    assert loaded.bit_depth == 8


# ------------------------------------------------------------------------------------- 16-bit


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_rgb_round_trip_exact(tmp_path: Path, suffix: str) -> None:
    raw = _u16(6, 9, 3)
    src = tmp_path / f"src{suffix}"
    assert cv2.imwrite(str(src), raw[..., ::-1])  # OpenCV wants BGR
    loaded = io.read_image(src)
    assert loaded.bit_depth == 16 and loaded.alpha is None
    np.testing.assert_array_equal(np.round(loaded.rgb * 65535).astype(np.uint16), raw)

    out = io.write_image(tmp_path / f"out{suffix}", loaded.rgb, bit_depth=loaded.bit_depth)
    np.testing.assert_array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1], raw)


def test_16bit_rgba_png_keeps_alpha(tmp_path: Path) -> None:
    raw = _u16(5, 7, 4, seed=1)
    src = tmp_path / "src.png"
    assert cv2.imwrite(str(src), raw[..., [2, 1, 0, 3]])
    loaded = io.read_image(src)
    assert loaded.bit_depth == 16 and loaded.mode == "RGBA"
    np.testing.assert_array_equal(np.round(loaded.alpha * 65535).astype(np.uint16), raw[..., 3])
    out = io.write_image(tmp_path / "out.png", loaded.rgb, bit_depth=16, alpha=loaded.alpha)
    np.testing.assert_array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]], raw)


def test_16bit_gray_png(tmp_path: Path) -> None:
    raw = _u16(6, 9, 1, seed=2)[..., 0]
    src = tmp_path / "gray16.png"
    Image.fromarray(raw).save(src)
    loaded = io.read_image(src)
    assert loaded.bit_depth == 16 and loaded.mode.startswith("I")
    assert np.array_equal(loaded.rgb[..., 0], loaded.rgb[..., 2])
    np.testing.assert_array_equal(np.round(loaded.rgb[..., 1] * 65535).astype(np.uint16), raw)
    back = io.read_image(io.write_image(tmp_path / "out.png", loaded.rgb, bit_depth=16))
    assert back.bit_depth == 16
    np.testing.assert_allclose(back.rgb, loaded.rgb, atol=0.5 / 65535)


# ------------------------------------------------------------------------------------- modes, alpha, EXIF


def test_gray_png_loads_as_equal_channels(tmp_path: Path) -> None:
    gray = np.random.default_rng(3).integers(0, 256, size=(8, 10), dtype=np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    loaded = io.read_image(tmp_path / "g.png")
    assert loaded.mode == "L" and loaded.bit_depth == 8 and loaded.rgb.shape == (8, 10, 3)
    assert np.array_equal(loaded.rgb[..., 0], loaded.rgb[..., 1]) and np.array_equal(
        loaded.rgb[..., 1], loaded.rgb[..., 2]
    )
    np.testing.assert_array_equal(np.round(loaded.rgb[..., 0] * 255), gray)
    back = io.read_rgb(io.write_image(tmp_path / "g_out.png", loaded.rgb))
    np.testing.assert_array_equal(back, loaded.rgb)


@pytest.mark.parametrize(
    ("name", "bit_depth", "with_alpha", "mode"),
    [("g.png", 8, False, "L"), ("g.jpg", 8, False, "L"), ("g.png", 16, False, "I;16"), ("g.tif", 8, True, "LA")],
)
def test_grayscale_round_trip_stays_gray(
    tmp_path: Path, name: str, bit_depth: int, with_alpha: bool, mode: str
) -> None:
    top = 2**bit_depth - 1
    gray = np.random.default_rng(4).integers(0, top + 1, size=(7, 9)).astype(np.float32) / top
    alpha = np.full((7, 9), 0.4, np.float32) if with_alpha else None
    loaded = io.read_image(
        io.write_image(tmp_path / name, np.repeat(gray[..., None], 3, axis=2), bit_depth=bit_depth, alpha=alpha)
    )
    assert loaded.mode in ("RGB", "RGBA") and not loaded.grayscale  # without the keyword: RGB, as before
    tinted = loaded.rgb * np.array([1.02, 1.0, 0.97], np.float32)  # a model's output is rarely exactly gray
    out = io.write_image(tmp_path / f"out_{name}", tinted, bit_depth=bit_depth, alpha=loaded.alpha, grayscale=True)
    back = io.read_image(out)
    assert Image.open(out).mode == mode and back.grayscale and back.bit_depth == bit_depth
    assert (back.alpha is not None) == with_alpha
    luma = tinted @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(back.rgb[..., 1], luma, atol=0.02 if name.endswith(".jpg") else 0.5 / top + 1e-6)


def test_rgba_png_alpha_preserved(tmp_path: Path, tiny_image: np.ndarray) -> None:
    alpha = np.linspace(0, 1, tiny_image.shape[0] * tiny_image.shape[1], dtype=np.float32).reshape(tiny_image.shape[:2])
    loaded = io.read_image(io.write_image(tmp_path / "a.png", tiny_image, alpha=alpha))
    assert loaded.mode == "RGBA" and loaded.alpha is not None
    assert np.abs(loaded.alpha - alpha).max() <= TOL8
    assert np.abs(loaded.rgb - tiny_image).max() <= TOL8


def test_jpeg_drops_alpha(tmp_path: Path, tiny_image: np.ndarray) -> None:
    alpha = np.zeros(tiny_image.shape[:2], np.float32)
    loaded = io.read_image(io.write_image(tmp_path / "a.jpg", tiny_image, alpha=alpha))
    assert loaded.alpha is None and loaded.mode == "RGB"
    assert np.abs(loaded.rgb - tiny_image).mean() < 0.02  # colour kept, not composited onto black


def test_la_png_alpha(tmp_path: Path) -> None:
    Image.new("LA", (4, 3), (200, 50)).save(tmp_path / "la.png")
    loaded = io.read_image(tmp_path / "la.png")
    assert loaded.mode == "LA"
    np.testing.assert_allclose(loaded.rgb, 200 / 255, atol=1e-6)
    np.testing.assert_allclose(loaded.alpha, 50 / 255, atol=1e-6)


def test_palette_transparency_becomes_alpha(tmp_path: Path) -> None:
    im = Image.new("P", (4, 2), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.putpixel((1, 0), 1)
    im.save(tmp_path / "p.png", transparency=0)
    loaded = io.read_image(tmp_path / "p.png")
    assert loaded.mode == "P" and loaded.alpha is not None
    assert loaded.alpha[0, 1] == 1.0 and loaded.alpha[0, 0] == 0.0
    np.testing.assert_array_equal(loaded.rgb[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(loaded.rgb[1, 3], [1, 0, 0])


def test_exif_orientation_rotates(tmp_path: Path) -> None:
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    Image.fromarray(img).save(tmp_path / "o.jpg", exif=exif, quality=95)
    rgb = io.read_rgb(tmp_path / "o.jpg")
    assert rgb.shape == (40, 20, 3)
    assert rgb[:20].mean() > 0.9 and rgb[20:].mean() < 0.1  # white half is now on top


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    img = np.random.default_rng(orientation).integers(0, 256, size=(3, 5, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(img).save(tmp_path / "o.png", exif=exif)
    with Image.open(tmp_path / "o.png") as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.float32) / 255
    np.testing.assert_array_equal(io.read_rgb(tmp_path / "o.png"), expected)


# ------------------------------------------------------------------------------------- read errors


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"nope\.png: no such file"):
        io.read_image(tmp_path / "nope.png")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="is a directory"):
        io.read_image(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="empty file"):
        io.read_image(_write_bytes(tmp_path / "e.png", b""))


def test_text_named_jpg(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"t\.jpg: not a readable image") as info:
        io.read_image(_write_bytes(tmp_path / "t.jpg", b"hello, this is not a picture\n"))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("suffix", "bit_depth"), [(".png", 8), (".jpg", 8), (".png", 16)])
def test_truncated_file_raises(tmp_path: Path, suffix: str, bit_depth: int) -> None:
    noisy = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)  # noise: no tiny compressed body
    data = io.write_image(tmp_path / f"full{suffix}", noisy, bit_depth=bit_depth).read_bytes()
    cut = _write_bytes(tmp_path / f"cut{suffix}", data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut\.(png|jpg): ") as info:
        io.read_image(cut)
    assert "\n" not in str(info.value)


def test_zero_sized_png(tmp_path: Path) -> None:
    data = bytearray(io.write_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.float32)).read_bytes())
    data[16:20] = (0).to_bytes(4, "big")  # IHDR width = 0
    with pytest.raises(ImageReadError, match=r"z\.png"):
        io.read_image(_write_bytes(tmp_path / "z.png", bytes(data)))


def test_pixel_limit_checked(tmp_path: Path, tiny_image: np.ndarray) -> None:
    path = io.write_image(tmp_path / "a.png", tiny_image)
    with pytest.raises(ImageTooLargeError, match="64x48 image has more than max_pixels=1000"):
        io.read_image(path, max_pixels=1000)
    assert io.read_image(path, max_pixels=64 * 48).rgb.shape == (48, 64, 3)


def test_pillow_bomb_error_becomes_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = io.write_image(tmp_path / "a.png", np.zeros((40, 40, 3), np.float32))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow errors above twice this
    with pytest.raises(ImageTooLargeError, match=r"a\.png: too many pixels"):
        io.read_image(path, max_pixels=150)  # read_image lifts Pillow's limit to max_pixels only


# ------------------------------------------------------------------------------------- writing


def test_atomic_write_keeps_old_file_on_failure(
    tmp_path: Path, tiny_image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = io.write_image(tmp_path / "a.png", tiny_image)
    before = path.read_bytes()

    def broken_save(self: Image.Image, fp: Path, *args: object, **kwargs: object) -> None:
        Path(fp).write_bytes(b"half")  # a partial temp file exists when the encoder dies
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(WriteError, match=r"a\.png: cannot write image \(disk full\)"):
        io.write_image(path, np.zeros_like(tiny_image))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_atomic_path_temp_keeps_suffix_and_creates_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "out.tiff"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".tiff" and tmp != target
        tmp.write_text("x")
        assert not target.exists()
    assert target.read_text() == "x" and not tmp.exists()


def test_write_rejects_bad_input(tmp_path: Path, tiny_image: np.ndarray) -> None:
    with pytest.raises(WriteError, match="unsupported image suffix"):
        io.write_image(tmp_path / "a.gif", tiny_image)
    with pytest.raises(ValueError, match="shape"):
        io.write_image(tmp_path / "a.png", tiny_image[..., 0])
    with pytest.raises(ValueError, match="NaN"):
        io.write_image(tmp_path / "a.png", np.full_like(tiny_image, np.nan))
    assert list(tmp_path.iterdir()) == []


def test_list_images_natural_order(tmp_path: Path) -> None:
    for name in ["10.png", "2.jpg", "1.PNG", "notes.txt", ".hidden.png"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in io.list_images(tmp_path)] == ["1.PNG", "2.jpg", "10.png"]
    with pytest.raises(ImageReadError, match="no such folder"):
        io.list_images(tmp_path / "missing")


# ------------------------------------------------------------------------------------- video


def _clip(h: int, w: int, n: int = 8) -> list[np.ndarray]:
    base = smooth_image(h, w + n)
    return [np.ascontiguousarray(base[:, i : i + w]) for i in range(n)]  # a slow pan


@pytest.mark.parametrize(("suffix", "size"), [(".mp4", (48, 64)), (".mkv", (49, 65)), (".mov", (48, 64))])
def test_video_round_trip(tmp_path: Path, suffix: str, size: tuple[int, int]) -> None:
    frames = _clip(*size)
    path = tmp_path / f"clip{suffix}"
    with video.VideoWriter(path, Fraction(30000, 1001)) as writer:
        for frame in frames:
            writer.write(frame)
    assert _no_temp_files(tmp_path)
    info, it = video.open_video(path)
    assert (info.height, info.width) == size
    assert info.fps == pytest.approx(30000 / 1001, rel=1e-6)
    decoded = list(it)
    assert len(decoded) == len(frames)
    for got, want in zip(decoded, frames, strict=True):
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.abs(got - want).mean() < 0.02


def test_video_write_failure_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="expected"), video.VideoWriter(path, 25) as writer:
        writer.write(np.zeros((16, 16, 3), np.float32))
        writer.write(np.zeros((8, 8, 3), np.float32))
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_video_writer_without_frames(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="no frames"), video.VideoWriter(tmp_path / "c.mp4", 25):
        pass
    assert list(tmp_path.iterdir()) == []


def test_frame_folder_round_trip(tmp_path: Path) -> None:
    frames = _clip(9, 11, n=3)
    out = tmp_path / "frames"
    with video.VideoWriter(out, 12.5) as writer:
        for frame in frames:
            writer.write(frame)
    names = sorted(p.name for p in out.iterdir())
    assert names == [MARKER, "000001.png", "000002.png", "000003.png", "fps.txt"]  # the marker: derain owns it
    info, it = video.open_video(out)
    assert info == video.VideoInfo(fps=12.5, width=11, height=9, frame_count=3)
    for got, want in zip(it, frames, strict=True):
        assert np.abs(got - want).max() <= TOL8
    with pytest.raises(WriteError, match="already exists"), video.VideoWriter(out, 25) as writer:
        writer.write(frames[0])


def test_frame_folder_default_fps_and_bad_fps(tmp_path: Path, tiny_image: np.ndarray) -> None:
    io.write_image(tmp_path / "f1.jpg", tiny_image)
    assert video.open_video(tmp_path)[0].fps == video.DEFAULT_FPS
    (tmp_path / "fps.txt").write_text("fast")
    with pytest.raises(VideoReadError, match=r"fps\.txt: frame rate 'fast'"):
        video.open_video(tmp_path)


def test_frame_folder_size_mismatch(tmp_path: Path) -> None:
    io.write_image(tmp_path / "1.png", np.zeros((4, 4, 3), np.float32))
    io.write_image(tmp_path / "2.png", np.zeros((4, 6, 3), np.float32))
    _, it = video.open_video(tmp_path)
    with pytest.raises(VideoReadError, match=r"2\.png: frame is 6x4 but the first frame is 4x4"):
        list(it)


def test_bad_video_inputs(tmp_path: Path) -> None:
    junk = _write_bytes(tmp_path / "junk.mp4", np.random.default_rng(0).bytes(4096))
    with pytest.raises(VideoReadError, match=r"junk\.mp4: cannot open video"):
        video.open_video(junk)
    with pytest.raises(VideoReadError, match="no such file"):
        video.open_video(tmp_path / "missing.mp4")
    with pytest.raises(VideoReadError, match="empty file"):
        video.open_video(_write_bytes(tmp_path / "empty.mp4", b""))
    (tmp_path / "nothing").mkdir()
    with pytest.raises(VideoReadError, match="no image frames"):
        video.open_video(tmp_path / "nothing")


@pytest.mark.shared
def test_shared_bench_frame_folder(shared_data: Path) -> None:
    folder = next(p for p in sorted((shared_data / "bench" / "video").glob("*/rain")) if p.is_dir())
    info, it = video.open_video(folder)
    first = next(it)
    assert first.shape == (info.height, info.width, 3) and info.frame_count and info.frame_count > 1


def test_list_images_recursive_in_natural_order_without_hidden(tmp_path):
    for rel in ["b/10.png", "b/2.png", "a/1.jpg", "top.png", ".hidden/x.png", "a/.y.png", "a/notes.txt"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    names = [str(p.relative_to(tmp_path)) for p in io.list_images(tmp_path, recursive=True)]
    assert names == ["a/1.jpg", "b/2.png", "b/10.png", "top.png"]
    assert [p.name for p in io.list_images(tmp_path)] == ["top.png"]
