"""Shared fixtures: paths to ../shared/data (skipped outside this workplace) and tiny images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DERAIN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests using it skip with a reason where the clone has no shared data."""
    if not (SHARED_DATA / "clean").is_dir():
        pytest.skip(f"needs the research data at {SHARED_DATA} (not distributed with the package)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A tiny natural-ish float32 RGB image in [0, 1] (smooth gradients + blobs), made in memory."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack(
        [
            0.5 + 0.4 * np.sin(xx / max(w, 1) * np.pi * r.uniform(1, 3) + c) * np.cos(yy / max(h, 1) * np.pi * r.uniform(1, 3))
            for c in range(3)
        ],
        axis=-1,
    )
    return np.clip(img, 0, 1).astype(np.float32)


@pytest.fixture
def tiny_image() -> np.ndarray:
    return smooth_image(48, 64)
