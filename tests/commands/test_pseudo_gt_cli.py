"""``derain pseudo-gt``: single sequence, dataset mode (pairs + masks), refusals on one line."""

from __future__ import annotations

import numpy as np
from tests.conftest import run_cli
from tests.data.test_pseudo_gt import _textured

from derain.data.io import list_images, read_rgb, write_image
from derain.data.pairing import pair_folders
from derain.data.synth import synth_timelapse, synth_video


def _write(folder, composites) -> None:
    for k, c in enumerate(composites, start=1):
        write_image(folder / f"{k:03d}.png", np.clip(c.image, 0, 1))


def test_single_and_dataset(tmp_path) -> None:
    rng = np.random.default_rng(0)
    scene = _textured(160, 240, seed=1)
    static = synth_timelapse(scene[:48, :64], 8, rng, preset="light")
    _write(tmp_path / "seqs" / "street", static)
    _write(tmp_path / "seqs" / "pan", synth_video(scene, 8, rng, preset="light", motion="pan", out_size=(48, 64)))

    done = run_cli("pseudo-gt", tmp_path / "seqs" / "street", "-o", tmp_path / "clean.png")
    assert done.returncode == 0, done.stderr
    assert read_rgb(tmp_path / "clean.png").shape == (48, 64, 3)

    refused = run_cli("pseudo-gt", tmp_path / "seqs" / "pan", "-o", tmp_path / "pan.png")
    assert refused.returncode == 2 and "camera moves" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "pan.png").exists()

    inside = run_cli("pseudo-gt", tmp_path / "seqs" / "street", "-o", tmp_path / "seqs" / "street" / "c.png")
    assert inside.returncode == 2 and "inside the frame folder" in inside.stderr

    pairs = tmp_path / "pairs"
    done = run_cli("pseudo-gt", "--dataset", tmp_path / "seqs", "-o", pairs, "--method", "median")
    assert done.returncode == 1, done.stderr  # the panning scene is skipped
    assert "skipped" in done.stderr and "pan" in done.stderr
    assert len(list_images(pairs / "rain")) == 8 and len(list_images(pairs / "mask")) == 8
    assert len(pair_folders(pairs / "rain", pairs / "clean")) == 8
    mask = read_rgb(pairs / "mask" / "street_1.png")
    assert set(np.unique(mask)) <= {0.0, 1.0}

    again = run_cli("pseudo-gt", "--dataset", tmp_path / "seqs", "-o", pairs)
    assert again.returncode == 2 and "already holds" in again.stderr


def test_dataset_from_derain_synth_timelapse_reads_the_rain_frames(tmp_path) -> None:
    """The synth layout (<scene>/rain/*.png + <scene>/clean.png): the frames are the rain/ ones, not clean.png."""
    clean_dir = tmp_path / "photos"
    for i in range(2):
        write_image(clean_dir / f"photo{i}.png", _textured(48, 64, seed=i))
    seqs = tmp_path / "seqs"
    done = run_cli("synth", "timelapse", "--clean", clean_dir, "--out", seqs, "--count", "2", "--frames", "5")
    assert done.returncode == 0, done.stderr
    pairs = tmp_path / "pairs"
    done = run_cli("pseudo-gt", "--dataset", seqs, "-o", pairs)
    assert done.returncode == 0, done.stderr
    scenes = sorted(p.name for p in seqs.iterdir() if p.is_dir())
    assert len(list_images(pairs / "rain")) == 2 * 5 and [p.stem for p in list_images(pairs / "clean")] == scenes
    truth = read_rgb(seqs / scenes[0] / "clean.png")
    estimate = read_rgb(pairs / "clean" / f"{scenes[0]}.png")
    assert estimate.shape == truth.shape and np.abs(estimate - truth).mean() < 0.05

    single = run_cli("pseudo-gt", seqs / scenes[0], "-o", tmp_path / "one.png")
    assert single.returncode == 0 and "5 frames" in single.stdout, single.stderr
