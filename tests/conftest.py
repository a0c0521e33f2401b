"""Shared fixtures: paths to ../shared/data (skipped outside this workplace), tiny images, tiny
weights, and the real CLI in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DERAIN_SHARED_DATA", REPO.parent / "shared" / "data"))
#: Config of a small, fast baseline U-Net for weights files in tests.
TINY = {"channels": (4, 8), "bottleneck_blocks": 1}


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
            0.5
            + 0.4
            * np.sin(xx / max(w, 1) * np.pi * r.uniform(1, 3) + c)
            * np.cos(yy / max(h, 1) * np.pi * r.uniform(1, 3))
            for c in range(3)
        ],
        axis=-1,
    )
    return np.clip(img, 0, 1).astype(np.float32)


@pytest.fixture
def tiny_image() -> np.ndarray:
    return smooth_image(48, 64)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised :data:`TINY` baseline saved as a ``.safetensors`` file, shared by the session."""
    import torch  # torch: imported only by the tests that ask for weights

    from derain.checkpoint import save_weights
    from derain.models import build_model

    # Seeded: otherwise the weights depend on whichever test drew random numbers before, in this worker.
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    return save_weights(build_model("baseline", TINY), path, model_name="baseline", config=TINY)


def load_script(script: Path, monkeypatch: pytest.MonkeyPatch, prefix: str = "script") -> ModuleType:
    """Import a benchmark or device script as a module (its folder on ``sys.path`` for its own helpers);
    ``main()`` stays behind ``__name__``."""
    monkeypatch.syspath_prepend(str(script.parent))
    spec = importlib.util.spec_from_file_location(f"{prefix}_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def cli_env() -> dict[str, str]:
    """One thread per process: deterministic and polite to the shared CPUs."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert a user mistake's contract: exit code 2, one stderr line with every needle, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert all(n in lines[0] for n in needles), lines[0]
    return lines[0]


def run_cli(*args: object, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m derain ARGS...`` in a subprocess (arguments go through ``str``), output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "derain", *map(str, args)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=timeout,
    )
