"""Issue #10, defects 1-2 and the output rule: no command may overwrite an input or delete a user's file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import one_line_error, run_cli, smooth_image
from derain.checkpoint import save_weights
from derain.data.io import write_image
from derain.data.video import VideoWriter
from derain.errors import WriteError
from derain.models import build_model
from derain.outputs import MARKER, atomic_dir

SMALL_MEMORY = {"channels": 8, "items": 3}


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256: inputs must come out byte-identical."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def memory_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "memory.safetensors"
    return save_weights(build_model("memory", SMALL_MEMORY), path, model_name="memory", config=SMALL_MEMORY)


def test_inspect_never_writes_over_its_input_or_existing_files(tmp_path: Path, memory_weights: Path) -> None:
    folder = tmp_path / "d"
    image = write_image(folder / "rain.png", smooth_image(24, 32))
    write_image(folder / "background.png", smooth_image(24, 32, seed=1))
    before = digests(folder)
    one_line_error(run_cli("inspect", "memory", image, "-o", folder, "--weights", memory_weights), "rain.png")
    assert digests(folder) == before
    # --overwrite replaces derain's own names, but the input never
    done = run_cli("inspect", "memory", image, "-o", folder, "--weights", memory_weights, "--overwrite")
    one_line_error(done, "would overwrite the input")
    assert digests(folder) == before
    other = write_image(tmp_path / "x.png", smooth_image(24, 32, seed=2))
    done = run_cli("inspect", "memory", other, "-o", folder, "--weights", memory_weights, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert (folder / "rain.png").read_bytes() != b"" and digests(folder)[str(folder / "rain.png")] != before[str(image)]


def test_inspect_max_side_must_be_positive(tmp_path: Path, memory_weights: Path) -> None:
    image = write_image(tmp_path / "in.png", smooth_image(24, 32))
    done = run_cli("inspect", "memory", image, "-o", tmp_path / "o", "--weights", memory_weights, "--max-side", "0")
    assert done.returncode == 2 and "--max-side" in done.stderr and not (tmp_path / "o").exists()


def _video(path: Path, n: int = 4) -> Path:
    with VideoWriter(path, fps=10) as writer:
        for i in range(n):
            writer.write(smooth_image(32, 32, seed=i))
    return path


def test_adapt_run_dir_never_deletes_user_files(tmp_path: Path) -> None:
    video = _video(tmp_path / "cam.mp4")
    frames = tmp_path / "run" / "frames" / "cam"
    write_image(frames / "holiday.png", smooth_image(16, 16))
    before = digests(tmp_path / "run")
    out = tmp_path / "o.safetensors"
    done = run_cli("adapt", video, "-o", out, "--run-dir", tmp_path / "run", "--steps", "1", "--device", "cpu")
    one_line_error(done, str(frames), "holiday.png")
    assert digests(tmp_path / "run") == before and not out.exists()


def test_adapt_rerun_names_run_dir_and_existing_output(tmp_path: Path) -> None:
    scene = tmp_path / "cam"
    for i in range(3):
        write_image(scene / f"{i}.png", smooth_image(32, 32, seed=i))
    run_dir = tmp_path / "myrun"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "step_000001.pt").write_bytes(b"x")
    done = run_cli("adapt", scene, "-o", tmp_path / "o.safetensors", "--run-dir", run_dir, "--steps", "1")
    one_line_error(done, "--run-dir", "--resume")
    assert "output.dir" not in done.stderr
    existing = tmp_path / "old.safetensors"
    existing.write_bytes(b"mine")
    one_line_error(run_cli("adapt", scene, "-o", existing, "--steps", "1"), str(existing), "--overwrite")
    assert existing.read_bytes() == b"mine"
    one_line_error(run_cli("adapt", scene, "-o", tmp_path / "a.safetensors", "--lr", "-1"), "--lr")


def test_atomic_dir_replaces_only_what_derain_wrote(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (out / MARKER).is_file() and (out / "a.txt").read_text() == "1"
    with pytest.raises(WriteError, match="--overwrite"), atomic_dir(out):
        pass
    with atomic_dir(out, replace=True) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt"]
    (out / "user.txt").write_text("keep")
    with pytest.raises(WriteError, match=r"user\.txt"), atomic_dir(out, replace=True):
        pass
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "failed") as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert np.array_equal(sorted(p.name for p in out.iterdir()), sorted([MARKER, "b.txt", "user.txt"]))
