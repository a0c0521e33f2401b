"""Image reading/writing and listing: every bad file becomes a one-line error naming it.

Images load as float32 RGB ``(H, W, 3)`` in [0, 1] plus what is needed to write them back
faithfully (bit depth, alpha). Pillow identifies, validates and decodes everything it can hold;
OpenCV decodes and encodes 16-bit colour, which Pillow cannot hold. Video is :mod:`derain.data.video`.

Outputs are written to a temp file in the destination folder and renamed into place, so a
crash or a failed encode never leaves a half-written file or destroys an older one.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from derain.atomic import atomic_path
from derain.errors import FileReadError, ImageReadError, ImageTooLargeError, WriteError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "UNSUPPORTED_IMAGE_SUFFIXES",
    "LoadedImage",
    "list_images",
    "read_image",
    "read_rgb",
    "write_image",
]

#: Largest image (in pixels) read by default: ~ a 14k x 8.5k photo; guards against decompression bombs.
DEFAULT_MAX_PIXELS = 120_000_000
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
#: Image formats derain does not read or write: named when met in a folder, never skipped silently.
UNSUPPORTED_IMAGE_SUFFIXES: frozenset[str] = frozenset({".gif", ".heic", ".heif", ".avif", ".jxl", ".ico", ".psd"})

_PIL_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
_PIL_FORMATS |= {".bmp": "BMP", ".webp": "WEBP"}
_SIXTEEN_BIT_SUFFIXES = frozenset({".png", ".tif", ".tiff"})
_ALPHA_SUFFIXES = frozenset({".png", ".tif", ".tiff", ".webp"})
_GRAY16_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
_GRAY_MODES = _GRAY16_MODES | {"1", "L", "LA", "La", "F"}
#: Largest value of a 16-bit channel: 32-bit integer ("I") images must stay within it.
_MAX16 = 65535
#: BT.601 luma weights, as Pillow's RGB -> L conversion uses them.
_LUMA = np.array([0.299, 0.587, 0.114])
_ORIENTATION_TAG = 0x0112

# EXIF orientation -> array transform that shows the image upright (same mapping as PIL.ImageOps.exif_transpose).
_ORIENT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


@dataclass
class LoadedImage:
    """A decoded image plus what :func:`write_image` needs to write it back faithfully.

    Attributes:
        rgb: float32 ``(H, W, 3)`` in [0, 1], EXIF orientation already applied.
        bit_depth: 8 or 16 (bits per channel in the file).
        alpha: float32 ``(H, W)`` in [0, 1], or None when the file has no transparency.
        mode: the file's PIL mode ("L", "RGB", "RGBA", "P", "I;16", ...).
        path: where it was read from.
        icc_profile: the embedded colour profile, written back by :func:`write_image` (8-bit outputs).
        pages: frames in the file (multi-page TIFF, animated WebP); only the first is read.
    """

    rgb: np.ndarray
    bit_depth: int
    alpha: np.ndarray | None
    mode: str
    path: Path | None
    icc_profile: bytes | None = None
    pages: int = 1

    @property
    def grayscale(self) -> bool:
        """True when the file holds one gray channel (plus maybe alpha): pass it to :func:`write_image`."""
        return self.mode in _GRAY_MODES


# --------------------------------------------------------------------------------------------- images


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file fully (truncation is an error, never a gray remainder).

    Args:
        path: PNG, JPEG, TIFF, BMP or WebP; 8 or 16 bit; gray, RGB, RGBA, LA or palette.
        max_pixels: refuse images with more pixels than this, checked from the header before decoding.

    Raises:
        ImageReadError: missing, a directory, empty, not an image, truncated or zero-sized.
        ImageTooLargeError: more than ``max_pixels`` pixels.
    """
    path = Path(path)
    _check_file(path, ImageReadError)
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        # Pillow refuses above twice its own limit while opening, before our check: ours is the one that applies.
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies
            with Image.open(path) as im:
                _check_size(path, im.size, max_pixels)
                # _is_colour16 must run before getexif(), which decodes PNGs and clears the tile list.
                if _is_colour16(im):
                    rgb, alpha = _decode_colour16(path)
                    bit_depth = 16
                else:
                    rgb, alpha, bit_depth = _decode_pil(im)
                orientation = int(im.getexif().get(_ORIENTATION_TAG, 1))
                mode, icc, pages = im.mode, im.info.get("icc_profile"), int(getattr(im, "n_frames", 1))
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(path, f"too many pixels for Pillow's decompression-bomb guard ({e})") from None
    except Image.UnidentifiedImageError:
        raise ImageReadError(path, "not a readable image (unknown format or corrupt header)") from None
    except (OSError, SyntaxError, ValueError, cv2.error) as e:
        raise ImageReadError(path, f"cannot read image ({_one_line(e)})") from None
    transform = _ORIENT.get(orientation)
    if transform is not None:
        rgb = np.ascontiguousarray(transform(rgb))
        alpha = None if alpha is None else np.ascontiguousarray(transform(alpha))
    icc = icc if isinstance(icc, bytes) and icc else None
    return LoadedImage(rgb=rgb, bit_depth=bit_depth, alpha=alpha, mode=mode, path=path, icc_profile=icc, pages=pages)


def read_rgb(path: str | Path, **kw: int) -> np.ndarray:
    """Shortcut for ``read_image(path, **kw).rgb``."""
    return read_image(path, **kw).rgb


def _check_file(path: Path, error: type[FileReadError]) -> None:
    """Turn the common file-system mistakes into one-line errors before any decoder sees them."""
    if not path.exists():
        raise error(path, "no such file")
    if path.is_dir():
        raise error(path, "is a directory, not a file")
    if path.stat().st_size == 0:
        raise error(path, "empty file (0 bytes)")


def _check_size(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height == 0:
        raise ImageReadError(path, f"zero-sized image ({width}x{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(path, f"{width}x{height} image has more than max_pixels={max_pixels} pixels")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _is_colour16(im: Image.Image) -> bool:
    """True for 16-bit RGB/RGBA/LA files, which Pillow would silently reduce to 8 bits."""
    if im.mode in _GRAY16_MODES or not im.tile:
        return False
    args = im.tile[0].args
    rawmode = args if isinstance(args, str) else (args[0] if isinstance(args, tuple) and args else "")
    return isinstance(rawmode, str) and ";16" in rawmode


def _decode_colour16(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode 16-bit colour with OpenCV (BGR(A) order) into RGB + alpha in [0, 1]."""
    data = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if data is None or data.dtype != np.uint16:
        raise ValueError("OpenCV could not decode the 16-bit data (truncated or corrupt)")
    data = data.astype(np.float32) / 65535.0
    if data.ndim == 2:
        return np.repeat(data[..., None], 3, axis=2), None
    rgb = np.ascontiguousarray(data[..., 2::-1])
    return rgb, (np.ascontiguousarray(data[..., 3]) if data.shape[2] == 4 else None)


def _decode_pil(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Fully decode a Pillow image (raises on truncation) into RGB, alpha and bit depth.

    Wide gray modes follow one documented rule instead of Pillow's silent clipping: 16-bit and
    32-bit integer values are read as 16-bit (``/ 65535``; 32-bit values outside 0..65535 are an
    error), 32-bit float values must be finite and in [0, 1] and are kept as they are. Both come
    back as 16-bit output.
    """
    im.load()
    if im.mode == "F":
        return np.repeat(_checked_float(np.asarray(im, dtype=np.float32))[..., None], 3, axis=2), None, 16
    if im.mode in _GRAY16_MODES:
        gray = np.asarray(im)
        lo, hi = (int(gray.min()), int(gray.max())) if gray.size else (0, 0)
        if lo < 0 or hi > _MAX16:
            raise ValueError(f"{im.mode} integer values span {lo}..{hi}, outside the 16-bit range 0..{_MAX16}")
        gray = gray.astype(np.float32) / _MAX16
        return np.repeat(gray[..., None], 3, axis=2), None, 16
    if im.has_transparency_data:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3]), 8
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0, None, 8


def _checked_float(data: np.ndarray) -> np.ndarray:
    """Float pixels must be finite and in [0, 1]: derain never guesses another scale."""
    if not np.isfinite(data).all():
        raise ValueError("float image holds NaN or infinite values")
    lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"float image values span {lo:g}..{hi:g}; derain reads float images as 0..1")
    return data


def write_image(
    path: str | Path,
    rgb: np.ndarray,
    *,
    bit_depth: int = 8,
    alpha: np.ndarray | None = None,
    quality: int = 95,
    grayscale: bool = False,
    icc_profile: bytes | None = None,
) -> Path:
    """Write an image atomically; the format comes from the suffix.

    16-bit output is written for PNG and TIFF only (other formats get 8 bits). Alpha is kept for
    PNG, TIFF and WebP; JPEG and BMP drop it (the colour is written as is, not composited), because
    the derained colour under transparent pixels is still meaningful data. ``grayscale`` writes one
    luma channel, so a gray input comes back gray rather than as RGB with equal channels (WebP has
    no gray mode and 16-bit gray with alpha no OpenCV encoder: those stay RGB(A)).

    Args:
        path: destination; its folder is created if missing.
        rgb: float ``(H, W, 3)`` in [0, 1] (values outside are clipped).
        bit_depth: 8 or 16.
        alpha: optional float ``(H, W)`` in [0, 1].
        quality: JPEG/WebP quality (1-100).
        grayscale: write BT.601 luma instead of RGB (e.g. when :attr:`LoadedImage.grayscale`).
        icc_profile: colour profile to embed (PNG, JPEG, TIFF, WebP at 8 bits; OpenCV's 16-bit
            encoder cannot embed one, so 16-bit files are written without it).

    Returns:
        The written path.

    Raises:
        WriteError: unsupported suffix, or the file cannot be written.
        ValueError: bad array shapes, non-finite values or a bit depth other than 8/16.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PIL_FORMATS:
        raise WriteError(f"{path}: unsupported image suffix {path.suffix!r} (use one of {sorted(IMAGE_SUFFIXES)})")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    pixels = _to_pixels(rgb, alpha if suffix in _ALPHA_SUFFIXES else None, grayscale=grayscale)
    try:
        with atomic_path(path) as tmp:
            if bit_depth == 16 and suffix in _SIXTEEN_BIT_SUFFIXES:
                _encode16(tmp, pixels)
            else:
                data = _quantize(pixels, np.uint8)
                data = data[..., 0] if data.shape[2] == 1 else data  # (H, W) is Pillow's "L"
                extra = {"icc_profile": icc_profile} if icc_profile and suffix != ".bmp" else {}
                Image.fromarray(data).save(tmp, format=_PIL_FORMATS[suffix], quality=quality, **extra)
    except OSError as e:
        raise WriteError(f"{path}: cannot write image ({_one_line(e)})") from None
    return path


def _to_pixels(rgb: np.ndarray, alpha: np.ndarray | None, *, grayscale: bool = False) -> np.ndarray:
    """Validate and stack RGB (or its luma) plus alpha into one float ``(H, W, C)`` array."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    if grayscale:
        rgb = (rgb @ _LUMA)[..., None]
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != rgb.shape[:2]:
            raise ValueError(f"alpha must have shape {rgb.shape[:2]}, got {alpha.shape}")
        rgb = np.concatenate([rgb, alpha[..., None].astype(rgb.dtype)], axis=2)
    if not np.isfinite(rgb).all():
        raise ValueError("image contains NaN or infinite values")
    return rgb


def _quantize(pixels: np.ndarray, dtype: type[np.unsignedinteger]) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.round(np.clip(pixels, 0.0, 1.0) * top).astype(dtype)


def _encode16(tmp: Path, pixels: np.ndarray) -> None:
    """16-bit gray, RGB or RGBA via OpenCV, which wants BGR(A) channel order."""
    data = _quantize(pixels, np.uint16)
    if data.shape[2] == 2:  # gray + alpha: OpenCV encodes 1, 3 or 4 channels only
        data = data[..., [0, 0, 0, 1]]
    if data.shape[2] == 1:
        data = data[..., 0]
    else:
        data = cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(tmp.suffix, data)
    if not ok:
        raise WriteError(f"{tmp}: OpenCV could not encode a 16-bit {tmp.suffix} image")
    buf.tofile(tmp)


def list_images(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` in natural order (``2.png`` before ``10.png``); hidden files skipped.

    With ``recursive``, sub-folders too (hidden ones skipped), ordered by relative path.

    Raises:
        ImageReadError: ``folder`` is not a directory.
    """
    folder = Path(folder)
    if folder.is_file():
        raise ImageReadError(folder, "is a file; a folder of images is expected here")
    if not folder.is_dir():
        raise ImageReadError(folder, "no such folder")
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    files = [
        p
        for p in candidates
        if p.suffix.lower() in IMAGE_SUFFIXES and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(
        (p for p in files if p.is_file()), key=lambda p: [_natural_key(part) for part in p.relative_to(folder).parts]
    )


def _natural_key(name: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
