"""Seeded fuzz of image files and YAML configs (issue #10): never a traceback, always exit 0/1/2 with
one line naming the file or key, and the inputs byte-identical afterwards.

Most cases call the CLI entry point in-process (``derain.cli.main``) so the test stays fast; a few go
through the real CLI in a subprocess. Training itself is replaced by a stub that builds and checks
the dataset: the fuzz is about reading configs and data, not about optimising.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import run_cli, smooth_image
from derain.cli import main
from derain.data.io import write_image

SEED = 10
IMAGE_CASES = 48
CONFIG_CASES = 60
FORMATS = {"png": "PNG", "jpg": "JPEG", "tif": "TIFF", "bmp": "BMP", "webp": "WEBP"}
MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"BM", b"RIFF", b"GIF89a", b"\x00\x00\x00\x18ftyp"]


def _encoded(fmt: str, rng: np.random.Generator) -> bytes:
    pixels = (smooth_image(12, 16, seed=int(rng.integers(1000))) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=FORMATS[fmt])
    return buf.getvalue()


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG header claiming an absurd size (valid CRC), followed by a tiny IDAT and IEND."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = b"IDAT" + zlib.compress(b"\0" * 64)

    def chunk(body: bytes) -> bytes:
        return struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))

    return b"\x89PNG\r\n\x1a\n" + chunk(ihdr) + chunk(idat) + chunk(b"IEND")


def _mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    kind = ["truncate", "flip", "magic", "dims", "garbage", "splice"][int(rng.integers(6))]
    if kind == "truncate":
        return kind, data[: int(rng.integers(0, len(data)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 9))):
            pos = int(rng.integers(len(out)))
            out[pos] ^= 1 << int(rng.integers(8))
        return kind, bytes(out)
    if kind == "magic":
        magic = MAGICS[int(rng.integers(len(MAGICS)))]
        return kind, magic + data[len(magic) :]
    if kind == "dims":
        side = [0, 1, 2**16, 2**24, 2**31 - 1][int(rng.integers(5))]
        return kind, _png_with_size(side, int(rng.choice([0, 1, side, 3])))
    if kind == "garbage":
        return kind, rng.integers(0, 256, int(rng.integers(1, 300)), dtype=np.uint8).tobytes()
    cut = int(rng.integers(1, len(data)))
    return kind, data[:cut] + rng.integers(0, 256, 32, dtype=np.uint8).tobytes() + data[cut:]


def _check_lines(stderr: str, code: int, names: list[str]) -> None:
    """No traceback; every failure is one ``derain:`` line naming one of ``names``."""
    assert "Traceback" not in stderr, stderr
    assert code in (0, 1, 2), (code, stderr)
    lines = [line for line in stderr.splitlines() if line.startswith("derain: ") and "%|" not in line]
    if code != 0:
        assert lines, stderr
    for line in lines:
        if "error" in line or "skipped" in line:
            assert any(name in line for name in names), line


def test_fuzzed_images_through_run(tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(SEED)
    folder = tmp_path / "in"
    folder.mkdir()
    cases = []
    for i in range(IMAGE_CASES):
        fmt = list(FORMATS)[i % len(FORMATS)]
        kind, data = _mutate(_encoded(fmt, rng), rng)
        path = folder / f"{i:03d}_{kind}.{fmt}"
        path.write_bytes(data)
        cases.append(path)
    before = {p: p.read_bytes() for p in cases}
    for i, path in enumerate(cases):
        code = main(["run", str(path), "-o", str(tmp_path / f"out{i}"), "--weights", str(tiny_weights)])
        _check_lines(capsys.readouterr().err, code, [str(path)])
    code = main(["run", str(folder), "-o", str(tmp_path / "all"), "--weights", str(tiny_weights)])
    _check_lines(capsys.readouterr().err, code, [str(p) for p in cases] + [str(folder)])
    assert {p: p.read_bytes() for p in cases} == before


def test_fuzzed_images_through_the_real_cli(tmp_path: Path, tiny_weights: Path) -> None:
    rng = np.random.default_rng(SEED + 1)
    paths = []
    for i, fmt in enumerate(["png", "jpg", "tif"]):
        kind, data = _mutate(_encoded(fmt, rng), rng)
        paths.append(tmp_path / f"{i}_{kind}.{fmt}")
        paths[-1].write_bytes(data)
    before = [p.read_bytes() for p in paths]
    done = run_cli("run", *paths, "-o", tmp_path / "out", "--weights", tiny_weights)
    _check_lines(done.stderr, done.returncode, [str(p) for p in paths])
    assert [p.read_bytes() for p in paths] == before


# ----------------------------------------------------------------------------- configs


def _base_config(root: Path) -> dict[str, Any]:
    return {
        "model": {"name": "baseline", "config": {"channels": [4, 8], "bottleneck_blocks": 1}},
        "objective": {"name": "supervised", "options": {}},
        "data": {"kind": "paired_folder", "options": {"root": str(root), "crop": 16}},
        "train": {"steps": 2, "batch_size": 2, "lr": 1e-3, "device": "cpu"},
        "output": {"dir": str(root.parent / "run")},
    }


_VALUES: list[Callable[[np.random.Generator], Any]] = [
    lambda r: None,
    lambda r: int(r.integers(-(2**40), 2**40)),
    lambda r: float(r.choice([np.nan, np.inf, -np.inf, -1.5, 0.0, 1e300])),
    lambda r: "".join(chr(int(c)) for c in r.integers(32, 0x2FF, int(r.integers(0, 12)))),
    lambda r: [int(v) for v in r.integers(-3, 100, int(r.integers(0, 4)))],
    lambda r: {"k": int(r.integers(10))},
    lambda r: bool(r.integers(2)),
    lambda r: "../" * int(r.integers(1, 4)) + "nowhere",
]


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, str(key)))
    return out


def _mutate_config(raw: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    raw = yaml.safe_load(yaml.safe_dump(raw))
    for _ in range(int(rng.integers(1, 4))):
        paths = _paths(raw)
        path = paths[int(rng.integers(len(paths)))]
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        action = int(rng.integers(3))
        if action == 0:
            parent[path[-1]] = _VALUES[int(rng.integers(len(_VALUES)))](rng)
        elif action == 1:
            parent.pop(path[-1], None)
        elif isinstance(parent, dict):
            parent["zz_" + "".join(chr(int(c)) for c in rng.integers(97, 123, 5))] = _VALUES[0](rng)
    return raw


@pytest.fixture
def stub_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build and check the dataset as the trainer would, without training."""
    from derain.train import trainer
    from derain.train.preflight import build_checked_dataset

    def fake_train(config: Any, **_: Any) -> Any:
        build_checked_dataset(config)
        return trainer.TrainResult(Path(config.output.dir), 0, None, None)

    monkeypatch.setattr(trainer, "train", fake_train)


def test_fuzzed_configs(tmp_path: Path, stub_training: None, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pairs"
    for i in range(4):
        for part in ("rain", "clean"):
            write_image(root / part / f"{i}.png", smooth_image(24, 24, seed=i))
    rng = np.random.default_rng(SEED + 2)
    base = _base_config(root)
    for i in range(CONFIG_CASES):
        path = tmp_path / f"c{i:03d}.yaml"
        if i % 15 == 14:
            path.write_bytes(rng.integers(0, 256, 200, dtype=np.uint8).tobytes())  # not YAML, not UTF-8
        else:
            path.write_text(yaml.safe_dump(_mutate_config(base, rng), allow_unicode=True), encoding="utf-8")
        before = path.read_bytes()
        code = main(["train", str(path)])
        err = capsys.readouterr().err
        assert "Traceback" not in err and code in (0, 2), (code, err, path.read_text(errors="replace"))
        if code == 2:
            (line,) = err.strip().splitlines()
            keys = {p[0] for p in _paths(base)} | {"--set", "config", str(path)}
            assert line.startswith("derain: error: ") and any(k in line for k in keys), line
        assert path.read_bytes() == before


def test_a_fuzzed_config_through_the_real_cli(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("model: {name: baseline}\ntrain: {lr: .nan, zz: [1, {a: 2}]}\n", encoding="utf-8")
    done = run_cli("train", config, "--set", "train.batch_size=-3")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
