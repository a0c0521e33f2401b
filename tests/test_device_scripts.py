"""The GPU-leg helpers in ``scripts/device/``: data packing and step-rate reading (not the GPU run itself)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from conftest import load_script

DEVICE = Path(__file__).resolve().parents[1] / "scripts" / "device"


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(DEVICE / f"{name}.py", monkeypatch, "device")


def test_pack_data_holds_out_kodak_shrinks_photos_and_keeps_textures_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = _load("pack_data", monkeypatch)
    rng = np.random.default_rng(0)
    for folder in ("Kodak24", "Set5"):
        (tmp_path / "data/clean" / folder).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "data/clean" / folder / "a.png"), rng.integers(0, 255, (100, 200, 3), np.uint8))
    (tmp_path / "data/rain_streaks").mkdir()
    grey = rng.integers(0, 255, (20, 30), np.uint8)
    cv2.imwrite(str(tmp_path / "data/rain_streaks/1-4.png"), cv2.merge([grey, grey, grey]))
    out = tmp_path / "out"
    assert pack.pack_clean(tmp_path / "data/clean", out / "clean", max_side=50, quality=85) == 1
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.jpg")] == ["clean/Set5/a.jpg"]
    assert cv2.imread(str(out / "clean/Set5/a.jpg")).shape == (25, 50, 3)
    assert pack.pack_streaks(tmp_path / "data/rain_streaks", out / "rain_streaks") == 1
    packed = cv2.imread(str(out / "rain_streaks/1-4.png"), cv2.IMREAD_UNCHANGED)
    assert packed.ndim == 2 and np.array_equal(packed, grey)


def test_step_rate_reads_steps_per_second_between_logged_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legs = _load("legs", monkeypatch)
    log = tmp_path / "log.jsonl"
    assert legs.step_rate(log) == 0.0  # no log yet: the run never started training
    rows = [{"step": 50, "loss": 1.0, "time": 10.0}, {"val": 1}, {"step": 250, "loss": 0.5, "time": 30.0}]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert legs.step_rate(log) == pytest.approx(10.0)
