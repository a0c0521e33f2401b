"""Build derain's held-out sets: the rendered pairs behind every held-out figure in the docs.

Training never sees Kodak24 (every recipe excludes it) nor the five colour photographs that ship with
scikit-image, so pairs rendered from them are held out. Each set is one or more ``derain synth pairs``
runs whose ``rain/`` and ``clean/`` files are merged under a prefix. The same seed gives the same bytes, so
this rebuilds ``runs/val/<set>`` exactly as the method pages used it (checked against the sessions'
folders)::

    python scripts/heldout_sets.py                       # every set into runs/val
    python scripts/heldout_sets.py --sets sk_light,sk_mix --out /tmp/val

A set folder that exists is kept (``make heldout-data`` builds only what is missing); ``--overwrite``
rebuilds it if derain wrote it (``atomic_dir`` refuses folders holding anyone else's files). Streak
textures come from ``../shared/data/rain_streaks`` when it exists, as in the sessions that made these
sets; elsewhere the same command draws procedural streaks, so the bytes differ.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from derain.data.synth.writers import SynthRequest, write_dataset
from derain.errors import DerainError
from derain.outputs import atomic_dir

KODAK = Path("../shared/data/clean/Kodak24")
#: scikit-image's colour photographs (``skimage/data``): in no training pool, and not Kodak's scenes.
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg")


@dataclass(frozen=True)
class Part:
    """One ``derain synth pairs`` run of a set: its files get ``prefix_`` (none for an empty prefix)."""

    prefix: str
    source: str  # "kodak" or "skimage"
    preset: str
    seed: int
    count: int
    size: int | None = 384


#: Every held-out set, as the method pages describe it (docs/methods/fastnet.md, php.md).
#: sk_mix's real-mix-2 half, also a set of its own (sk_mx): the other half is the rain100h-like preset.
_SK_MIX_REAL = Part("mx", "skimage", "real-mix-2", 123, 10)
HELDOUT: dict[str, tuple[Part, ...]] = {
    "kodak_hard": (Part("rm3", "kodak", "real-mix", 3, 24), Part("lt", "kodak", "rain100l-like", 2, 12)),
    "kodak_mix2": (
        Part("a", "kodak", "real-mix-2", 7, 24, size=None),
        Part("b", "kodak", "rain100l-like", 8, 12, size=None),
    ),
    "kodak_light": (Part("lt", "kodak", "rain100l-like", 2, 12), Part("b", "kodak", "rain100l-like", 8, 12, size=None)),
    "kodak_cam": (Part("", "kodak", "real-mix-5", 11, 24),),
    "sk_light": (Part("lt", "skimage", "light", 121, 10), Part("l100", "skimage", "rain100l-like", 122, 10)),
    "sk_mix": (_SK_MIX_REAL, Part("h100", "skimage", "rain100h-like", 124, 10)),
    "broad_ho": (Part("skb", "skimage", "broad", 125, 10), Part("kb", "kodak", "broad", 126, 24)),
    "sk_mx": (_SK_MIX_REAL,),
    "long_ho": (Part("skl", "skimage", "long-rain", 127, 10), Part("kl", "kodak", "long-rain", 128, 24)),
    "wind_ho": (Part("skw", "skimage", "wind-rain", 129, 10), Part("kw", "kodak", "wind-rain", 130, 24)),
}


@contextmanager
def photo_sources(kodak: Path) -> Iterator[dict[str, Path]]:
    """``{"kodak": folder, "skimage": folder}``; the scikit-image photos are linked into a temp folder of their own."""
    import skimage.data

    data = Path(skimage.data.data_dir)
    with tempfile.TemporaryDirectory(prefix="derain-skimage-") as tmp:
        for name in SKIMAGE_PHOTOS:
            if not (data / name).is_file():
                raise DerainError(f"{data / name}: scikit-image's sample photo is missing")
            (Path(tmp) / name).symlink_to(data / name)
        yield {"kodak": kodak, "skimage": Path(tmp)}


def build_set(name: str, parts: tuple[Part, ...], out: Path, sources: dict[str, Path], *, overwrite: bool) -> int:
    """Render ``parts`` and merge them into the folder ``out``; returns the number of pairs."""
    count = 0
    with atomic_dir(out, replace=overwrite) as tmp:
        for part in parts:
            clean = sources[part.source]
            if not clean.is_dir():
                raise DerainError(f"{clean}: no such folder (held-out set {name} renders {part.source} photos)")
            staged = tmp / f".part_{part.prefix or 'all'}"
            request = SynthRequest(
                kind="pairs",
                clean=clean,
                out=staged,
                count=part.count,
                preset=part.preset,
                seed=part.seed,
                size=part.size,
            )
            if write_dataset(request):
                raise DerainError(f"{clean}: some photos could not be read (held-out set {name})")
            for kind in ("rain", "clean"):
                (tmp / kind).mkdir(exist_ok=True)
                for file in sorted((staged / kind).iterdir()):
                    file.rename(tmp / kind / (f"{part.prefix}_{file.name}" if part.prefix else file.name))
            shutil.rmtree(staged)  # rendered into our own temp folder just above
            count += part.count
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default=",".join(HELDOUT), help=f"comma-separated names (default: all: {', '.join(HELDOUT)})"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/val"), help="folder that receives one folder per set")
    parser.add_argument("--kodak", type=Path, default=KODAK, help="the Kodak24 photos")
    parser.add_argument("--overwrite", action="store_true", help="replace set folders that derain wrote")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in HELDOUT]
    if unknown or not names:
        print(
            f"heldout_sets: unknown set {', '.join(unknown) or '(none given)'}; known: {', '.join(HELDOUT)}",
            file=sys.stderr,
        )
        return 2
    try:
        with photo_sources(args.kodak) as sources:
            for name in names:
                if (args.out / name).exists() and not args.overwrite:
                    print(f"heldout_sets: kept {args.out / name} (exists; --overwrite rebuilds it if derain wrote it)")
                    continue
                count = build_set(name, HELDOUT[name], args.out / name, sources, overwrite=args.overwrite)
                print(f"heldout_sets: wrote {count} pairs to {args.out / name}")
    except DerainError as error:
        print(f"heldout_sets: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
