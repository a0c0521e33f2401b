"""``derain run INPUT... -o OUT_DIR``: derain photos, keeping names, formats, bit depth, alpha and grayscale.

Inputs are files, folders (their images; with ``--recursive`` also those of their sub-folders, whose
layout the outputs then mirror) or glob patterns. Every output path is checked before any work
starts: the output folder must be writable, writing over an input is refused, and existing outputs
need ``--overwrite`` (or are left alone with ``--skip-existing``, so an interrupted folder run
resumes). A file that cannot be read (or is over ``--max-pixels``), and a file in a format derain
does not handle (GIF, HEIC, ...), is reported on one line and skipped; the exit code is then 1.
ICC colour profiles are kept (8-bit outputs); a multi-page file is derained from its first page,
with a note.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

from derain.commands._options import add_model_options, load_from_args, positive_int
from derain.errors import DerainError, ImageReadError, WriteError

__all__ = ["add_parser", "collect_inputs", "plan_outputs", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``derain run``."""
    parser = subparsers.add_parser(
        "run",
        help="derain photos (files, folders or globs)",
        description="Derain images into OUT_DIR, keeping each file's name, format, bit depth, alpha and grayscale.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image file, folder of images or glob pattern")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT_DIR", help="output folder")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    existing.add_argument(
        "--skip-existing", action="store_true", help="leave outputs that already exist alone (resume a folder run)"
    )
    parser.add_argument(
        "--recursive",
        action="store_true",
        help="also derain images in sub-folders of folder inputs; outputs mirror their relative paths",
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        metavar="N",
        help="skip images with more than N pixels (default 120000000, a decompression-bomb guard)",
    )
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Derain every input; returns 0, or 1 if any image failed."""
    from tqdm import tqdm

    from derain.data.io import DEFAULT_MAX_PIXELS, read_image, write_image

    max_pixels = args.max_pixels or DEFAULT_MAX_PIXELS
    inputs, failures = collect_inputs(args.inputs, recursive=args.recursive, exclude=args.output)
    outputs = plan_outputs(inputs, args.output, overwrite=args.overwrite, skip_existing=args.skip_existing)
    kept = [(pair, dst) for pair, dst in zip(inputs, outputs, strict=True) if not (args.skip_existing and dst.exists())]
    if len(kept) < len(inputs):
        print(f"derain: {len(inputs) - len(kept)} output(s) already exist, left as they are", file=sys.stderr)
    for problem in failures:
        print(f"derain: skipped {problem}", file=sys.stderr)
    derainer = load_from_args(args)
    start = time.perf_counter()
    done = 0
    for (src, _), dst in tqdm(kept, desc="derain", unit="img", file=sys.stderr):
        try:
            image = read_image(src, max_pixels=max_pixels)
            if image.pages > 1:
                tqdm.write(
                    f"derain: note: {src} has {image.pages} pages/frames; only the first is derained", sys.stderr
                )
            rgb = derainer(image.rgb)
            write_image(
                dst,
                rgb,
                bit_depth=image.bit_depth,
                alpha=image.alpha,
                grayscale=image.grayscale,
                icc_profile=image.icc_profile,
            )
            done += 1
        except DerainError as exc:
            tqdm.write(f"derain: skipped {exc}", file=sys.stderr)
            failures.append(str(exc))
    elapsed = time.perf_counter() - start
    print(f"{done} image(s) derained into {args.output}, {len(failures)} failed, {elapsed:.1f} s")
    return 1 if failures else 0


def collect_inputs(
    patterns: list[str], *, recursive: bool = False, exclude: Path | None = None
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Expand files, folders and globs into ``(image path, output name)`` pairs (first occurrence kept).

    The output name is the file name, or with ``recursive`` the path relative to the folder input.
    A recursive walk skips images under ``exclude`` (the output folder, when it lies inside the
    walked folder), so a rerun never derains its own outputs.

    Returns:
        ``(images, problems)``: problems are one-line reports for inputs that name nothing.

    Raises:
        ImageReadError: no image at all was found.
    """
    from derain.data.io import IMAGE_SUFFIXES, UNSUPPORTED_IMAGE_SUFFIXES, list_images

    skip = exclude.resolve() if exclude is not None else None
    found: dict[Path, Path] = {}
    problems = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = [(p, p.relative_to(path)) for p in list_images(path, recursive=recursive)]
            candidates = path.rglob("*") if recursive else path.iterdir()
            unsupported = [p for p in candidates if p.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES and p.is_file()]
            problems += [_unsupported(p) for p in sorted(unsupported) if not p.name.startswith(".")]
            if recursive and skip is not None and skip != path.resolve():  # the output folder inside the tree
                matches = [(p, name) for p, name in matches if not p.resolve().is_relative_to(skip)]
        elif path.is_file() and path.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES:
            problems.append(_unsupported(path))
            continue
        elif path.is_file():
            matches = [(path, Path(path.name))]
        else:
            files = [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).suffix.lower() in IMAGE_SUFFIXES]
            matches = [(p, Path(p.name)) for p in files]
        if not matches:
            problems.append(f"{pattern}: no such file, or no images match")
        for p, name in matches:
            found.setdefault(p, name)
    if not found:
        detail = f" ({problems[0]})" if problems else ""
        raise ImageReadError(patterns[0], f"no images found in the given inputs{detail}")
    return list(found.items()), problems


def _unsupported(path: Path) -> str:
    from derain.data.io import IMAGE_SUFFIXES

    known = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
    return f"{path}: {path.suffix.lstrip('.').upper()} is not supported (derain reads {known}); convert it first"


def plan_outputs(
    inputs: list[tuple[Path, Path]], out_dir: Path, *, overwrite: bool, skip_existing: bool = False
) -> list[Path]:
    """``out_dir / name`` for each ``(input, name)``, checked before any work starts.

    Raises:
        WriteError: ``out_dir`` is a file or not writable, an output would replace an input, two
            inputs share a name, or an output exists and neither ``overwrite`` nor ``skip_existing``.
    """
    from derain.outputs import check_writable

    if out_dir.exists() and not out_dir.is_dir():
        raise WriteError(f"{out_dir}: is a file, not a folder; -o takes the output folder")
    check_writable(out_dir / "_", what="output folder")
    sources = {src.resolve(): src for src, _ in inputs}
    outputs: dict[Path, Path] = {}
    for src, name in inputs:
        dst = out_dir / name
        key = dst.resolve()
        if key in sources:
            raise WriteError(f"{dst}: would overwrite the input {sources[key]}; choose another output folder")
        if key in outputs:
            hint = "run them separately or pass their parent folder with --recursive"
            raise WriteError(f"{dst}: both {outputs[key]} and {src} would be written here; {hint}")
        if dst.exists() and not (overwrite or skip_existing):
            raise WriteError(f"{dst}: already exists (pass --overwrite to replace it, or --skip-existing)")
        outputs[key] = src
    return [out_dir / name for _, name in inputs]
