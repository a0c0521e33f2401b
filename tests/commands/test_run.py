"""``derain run`` through the real CLI: formats kept, bad files skipped, inputs never overwritten."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli, smooth_image
from derain.data.io import read_image, write_image


@pytest.fixture
def photos(tmp_path):
    """A folder with an 8-bit PNG, a JPEG, a 16-bit PNG, an RGBA PNG and a corrupt PNG."""
    folder = tmp_path / "photos"
    write_image(folder / "a.png", smooth_image(20, 30, seed=1))
    write_image(folder / "b.jpg", smooth_image(21, 17, seed=2))
    write_image(folder / "deep.png", smooth_image(18, 18, seed=3), bit_depth=16)
    write_image(folder / "alpha.png", smooth_image(16, 24, seed=4), alpha=np.full((16, 24), 0.5, np.float32))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return folder


def test_folder_with_a_corrupt_file(photos, tiny_weights, tmp_path):
    out = tmp_path / "out"
    result = run_cli("run", photos, "-o", out, "--weights", tiny_weights, "--device", "cpu")
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "alpha.png", "b.jpg", "deep.png"]
    assert "broken.png" in result.stderr and "Traceback" not in result.stderr
    assert "4 image(s) derained" in result.stdout and "1 failed" in result.stdout
    deep, alpha = read_image(out / "deep.png"), read_image(out / "alpha.png")
    assert deep.bit_depth == 16 and deep.rgb.shape == (18, 18, 3)
    assert alpha.alpha is not None and np.allclose(alpha.alpha, 0.5, atol=1 / 255)
    assert read_image(out / "b.jpg").rgb.shape == (21, 17, 3)


def test_refuses_to_overwrite_inputs(photos, tiny_weights):
    before = (photos / "a.png").read_bytes()
    result = run_cli("run", photos / "a.png", "-o", photos, "--weights", tiny_weights, "--device", "cpu")
    assert result.returncode == 2
    assert "would overwrite the input" in result.stderr
    assert (photos / "a.png").read_bytes() == before


def test_existing_outputs_need_overwrite(photos, tiny_weights, tmp_path):
    out = tmp_path / "out"
    write_image(out / "a.png", np.zeros((4, 4, 3), np.float32))
    pattern = str(photos / "[ab].*")  # a glob: a.png and b.jpg
    refused = run_cli("run", pattern, "-o", out, "--weights", tiny_weights, "--device", "cpu")
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert read_image(out / "a.png").rgb.shape == (4, 4, 3)
    done = run_cli("run", pattern, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--overwrite")
    assert done.returncode == 0, done.stderr
    assert read_image(out / "a.png").rgb.shape == (20, 30, 3) and (out / "b.jpg").is_file()


def test_recursive_mirrors_sub_folders_and_skips_its_own_outputs(tmp_path, tiny_weights):
    """Frames of two clips share names; --recursive keeps them apart, and a rerun ignores out/ inside the tree."""
    clips = tmp_path / "clips"
    for clip, seed in (("cam1", 1), ("cam2", 2)):
        write_image(clips / clip / "000.png", smooth_image(12, 16, seed=seed))
    write_image(clips / ".cache" / "000.png", smooth_image(12, 16))  # hidden: never an input
    flat = run_cli("run", clips / "cam1", clips / "cam2", "-o", tmp_path / "flat", "--weights", tiny_weights)
    assert flat.returncode == 2 and "--recursive" in flat.stderr

    out = clips / "derained"
    args = ("run", clips, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--recursive")
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["cam1/000.png", "cam2/000.png"]
    again = run_cli(*args, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "2 image(s) derained" in again.stdout
    assert not (out / "derained").exists()


def test_self_ensemble_flag_averages_the_mirrored_output(tmp_path, tiny_weights):
    import derain

    write_image(tmp_path / "in" / "a.png", smooth_image(20, 30, seed=5))
    done = run_cli("run", tmp_path / "in", "-o", tmp_path / "out", "--weights", tiny_weights, "--self-ensemble")
    assert done.returncode == 0, done.stderr
    loaded, rgb = derain.load(tiny_weights, "cpu"), read_image(tmp_path / "in" / "a.png").rgb
    expected = (loaded(rgb) + loaded(rgb[:, ::-1].copy())[:, ::-1]) / 2
    np.testing.assert_allclose(read_image(tmp_path / "out" / "a.png").rgb, np.clip(expected, 0, 1), atol=0.6 / 255)


def test_self_ensemble_is_refused_for_video_models(tmp_path):
    write_image(tmp_path / "in" / "a.png", smooth_image(20, 30, seed=5))
    done = run_cli("run", tmp_path / "in", "-o", tmp_path / "out", "--model", "j4r", "--self-ensemble")
    assert done.returncode == 2 and done.stderr.startswith("derain: error: self-ensemble: video models")
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
