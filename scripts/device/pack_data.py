"""Pack the training data for a lent GPU machine into ``.gpu/`` (git-ignored; ``carry: [.gpu]``).

Why: a device call carries at most 64 MiB with the working tree, and the machine cannot reach
``../shared``. The clean pool minus Kodak24 (the validation source) is 85 MB, so images are
downscaled to at most 640 px on the long side and re-encoded as JPEG quality 85 (33 MB); the
Garg-Nayar streak textures, grey stored as RGB, become one-channel PNGs (identical pixels, 9 MB).

    python scripts/device/pack_data.py   # from the repository root
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

HELD_OUT = "Kodak24"


def pack_clean(src: Path, dst: Path, max_side: int, quality: int) -> int:
    count = 0
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.suffix.lower() not in {".png", ".jpg", ".jpeg"} or rel.parts[0] == HELD_OUT:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        scale = max_side / max(image.shape[:2])
        if scale < 1:
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        out = (dst / rel).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out), image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        count += 1
    return count


def pack_streaks(src: Path, dst: Path) -> int:
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(src.glob("*.png"))
    for path in files:
        cv2.imwrite(str(dst / path.name), cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path(".gpu"))
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--quality", type=int, default=85)
    args = parser.parse_args()
    photos = pack_clean(args.data / "clean", args.out / "clean", args.max_side, args.quality)
    textures = pack_streaks(args.data / "rain_streaks", args.out / "rain_streaks")
    print(f"{photos} clean photos and {textures} streak textures in {args.out}")


if __name__ == "__main__":
    main()
