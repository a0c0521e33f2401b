"""Issue #10, defects 7 and 12: tracebacks become one line, and the line names the right thing."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from conftest import one_line_error, run_cli, smooth_image
from derain.data.io import write_image
from derain.errors import ModelError


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A file where a folder would have to be: unwritable for every user, root included."""
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    return path


def test_unwritable_outputs_are_found_before_the_work(tmp_path: Path, blocker: Path, tiny_weights: Path) -> None:
    image = write_image(tmp_path / "in.png", smooth_image(16, 16))
    frames = tmp_path / "frames"
    for i in range(2):
        write_image(frames / f"{i}.png", smooth_image(16, 16, seed=i))
    where = blocker / "sub"
    one_line_error(run_cli("export", "baseline", "-o", where / "m.onnx"), str(blocker), "is a file")
    one_line_error(run_cli("video", frames, "-o", where / "v.mp4", "--weights", tiny_weights), str(blocker))
    one_line_error(run_cli("run", image, "-o", where, "--weights", tiny_weights), str(blocker))
    one_line_error(run_cli("inspect", "memory", image, "-o", where), str(blocker))
    one_line_error(run_cli("adapt", frames, "-o", where / "a.safetensors"), str(blocker))
    assert blocker.read_text() == "mine"


def test_weights_with_wrong_metadata_types_and_folders(tmp_path: Path, tiny_weights: Path) -> None:
    state = load_file(tiny_weights)
    image = write_image(tmp_path / "in.png", smooth_image(16, 16))
    for name, config in [("list", "[1, 2]"), ("number", "5"), ("string", '"x"')]:
        bad = tmp_path / f"{name}.safetensors"
        save_file(state, bad, metadata={"derain_model": "baseline", "derain_config": config})
        one_line_error(run_cli("run", image, "-o", tmp_path / "o", "--weights", bad), str(bad), "JSON object")
    import derain

    with pytest.raises(ModelError, match="is a folder"):
        derain.load(tmp_path)


def test_score_a_file_says_file(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.png", smooth_image(16, 16))
    one_line_error(run_cli("score", image, tmp_path), str(image), "is a file")


def test_export_suffix_and_overwrite(tmp_path: Path) -> None:
    one_line_error(
        run_cli("export", "baseline", "--format", "torchscript", "-o", tmp_path / "x.onnx"), "x.onnx", "onnx"
    )
    existing = tmp_path / "m.onnx"
    existing.write_bytes(b"keep")
    one_line_error(run_cli("export", "baseline", "-o", existing), str(existing), "--overwrite")
    assert existing.read_bytes() == b"keep"
