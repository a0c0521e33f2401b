"""Issue #10, defects 3, 8 and 10: training data is checked before the first step, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from trainkit import save_yaml, tiny_config, write_pairs

from conftest import one_line_error, run_cli, smooth_image
from derain.data.io import read_rgb, write_image

KODAK = Path(__file__).resolve().parents[2] / "src" / "derain" / "assets" / "kodim07.jpg"


def test_a_crop_far_above_the_images_is_refused_before_training(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)  # 32 px images
    config = save_yaml(tiny_config(pairs, tmp_path / "run"), tmp_path / "c.yaml")
    one_line_error(run_cli("train", config, "--set", "data.options.crop=200"), "data.options.crop", "upscale")
    assert not (tmp_path / "run").exists()


def test_crop_null_with_mixed_sizes_and_batches_is_refused(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    for part in ("rain", "clean"):
        write_image(pairs / part / "003.png", smooth_image(40, 40))
    raw = tiny_config(pairs, tmp_path / "run")
    raw["data"]["options"]["crop"] = None
    one_line_error(run_cli("train", save_yaml(raw, tmp_path / "c.yaml")), "data.options.crop", "003.png")
    assert not (tmp_path / "run").exists()


def _scene(folder: Path, n: int = 4, *, pan: int = 0) -> Path:
    """Frames of a textured photo with fresh rain pixels; ``pan`` shifts the window by that many px per frame."""
    photo = read_rgb(KODAK)
    rng = np.random.default_rng(0)
    for i in range(n):
        frame = photo[60:252, 60 + pan * i : 316 + pan * i].copy()
        frame[rng.random(frame.shape[:2]) < 0.03] = 1.0
        write_image(folder / f"{i:03d}.png", frame)
    return folder


def test_adapt_footage_is_checked_before_the_first_step(tmp_path: Path) -> None:
    scene = _scene(tmp_path / "cam")
    write_image(scene / "004.png", read_rgb(scene / "000.png")[:64])  # one frame of another size
    run = tmp_path / "run"
    one_line_error(run_cli("adapt", scene, "-o", tmp_path / "a.safetensors", "--run-dir", run), "004.png", "192")
    write_image(scene / "004.png", read_rgb(scene / "000.png"))
    (scene / "004.png").write_bytes((scene / "004.png").read_bytes()[:-200])  # truncated frame
    one_line_error(run_cli("adapt", scene, "-o", tmp_path / "a.safetensors", "--run-dir", run), "004.png")
    assert not (run / "config.yaml").exists()
    (scene / "004.png").unlink()
    one_line_error(run_cli("adapt", scene, "-o", tmp_path / "a.safetensors", "--crop", "100000"), "--crop", "upscale")


def test_adapt_refuses_a_moving_camera_unless_forced(tmp_path: Path) -> None:
    scene = _scene(tmp_path / "pan", pan=4)
    out = tmp_path / "a.safetensors"
    one_line_error(run_cli("adapt", scene, "-o", out), str(scene), "camera moves", "--force")
    forced = run_cli("adapt", scene, "-o", out, "--force", "--crop", "100000")  # past the motion check
    one_line_error(forced, "--crop")
