"""``derain adapt``: footage collection, the fine-tuning config, and the real command end to end."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, smooth_image
from derain.data.datasets import build_dataset
from derain.data.io import list_images, write_image
from derain.data.video import VideoWriter
from derain.errors import ConfigError, DatasetError, ModelError
from derain.train.adapt import AdaptOptions, adapt_config, adaptable_models, adaptable_recipe, collect_scenes


def _rainy_frames(n: int, h: int = 48, w: int = 64, seed: int = 0) -> list[np.ndarray]:
    """A static scene with fresh bright streak pixels in every frame."""
    rng = np.random.default_rng(seed)
    scene = smooth_image(h, w, seed)
    frames = []
    for _ in range(n):
        frame = scene.copy()
        frame[rng.random((h, w)) < 0.03] = 1.0
        frames.append(frame)
    return frames


def _frame_folder(folder: Path, n: int = 3, seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    for i, frame in enumerate(_rainy_frames(n, seed=seed)):
        write_image(folder / f"{i:03d}.png", frame)
    return folder


def _video(path: Path, n: int) -> Path:
    with VideoWriter(path, fps=10) as writer:
        for frame in _rainy_frames(n):
            writer.write(frame)
    return path


def _digests(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_of_frames_is_one_scene(tmp_path: Path) -> None:
    scene = _frame_folder(tmp_path / "cam")
    assert collect_scenes([scene], tmp_path / "run") == [scene]


def test_a_folder_of_scenes_gives_each_sub_folder_and_ignores_stray_images(tmp_path: Path) -> None:
    root = tmp_path / "footage"
    a, b = _frame_folder(root / "a"), _frame_folder(root / "b" / "rain")
    write_image(root / "contact_sheet.png", smooth_image(8, 8))
    (root / "empty").mkdir()
    assert collect_scenes([root], tmp_path / "run") == [a, b.parent]


def test_a_video_becomes_evenly_sampled_frames_and_is_left_untouched(tmp_path: Path) -> None:
    video = _video(tmp_path / "cam.mp4", 9)
    before = video.read_bytes()
    (scene,) = collect_scenes([video], tmp_path / "run", frames_per_video=3)
    assert scene == tmp_path / "run" / "frames" / "cam"
    assert [p.name for p in list_images(scene)] == ["00000.png", "00001.png", "00002.png"]
    assert video.read_bytes() == before
    (again,) = collect_scenes([video], tmp_path / "run", frames_per_video=2)  # a rerun replaces, never mixes
    assert [p.name for p in list_images(again)] == ["00000.png", "00001.png"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no such file or folder"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no frames here"),
        (lambda d: _video(d / "one.mp4", 1), "at least 2 frames"),
    ],
)
def test_unusable_footage_is_a_clear_error(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        collect_scenes([make(tmp_path)], tmp_path / "run")


def test_only_ground_truth_free_models_are_adaptable() -> None:
    assert set(adaptable_models()) >= {"memory", "timelapse"}
    assert "baseline" not in adaptable_models()
    with pytest.raises(ModelError, match="trained with ground truth"):
        adaptable_recipe("baseline")
    with pytest.raises(ModelError):
        adaptable_recipe("no-such-model")


def test_config_keeps_the_recipe_objective_and_starts_from_bundled_weights(tmp_path: Path) -> None:
    scene = _frame_folder(tmp_path / "cam")
    out = tmp_path / "cam.safetensors"
    config = adapt_config("memory", [scene], out, tmp_path / "run", AdaptOptions(steps=20, crop=32))
    recipe = adaptable_recipe("memory")
    assert config.model.init == "bundled"
    assert config.objective.name == recipe["objective"]["name"]
    assert dict(config.objective.options) == recipe["objective"]["options"]
    assert config.data.kind == "timelapse_folder"
    assert config.data.options["scenes"] == [str(scene)]
    assert config.val is None  # footage has no ground truth to validate on
    assert (config.train.steps, config.train.lr, config.data.options["crop"]) == (20, 1e-4, 32)
    assert config.output.export.manifest == str(out.with_suffix(".json"))
    with pytest.raises(ConfigError, match="safetensors"):
        adapt_config("memory", [scene], tmp_path / "cam.pt", tmp_path / "run", AdaptOptions())


def test_timelapse_folder_takes_an_explicit_scene_list(tmp_path: Path) -> None:
    a, b = _frame_folder(tmp_path / "a"), _frame_folder(tmp_path / "b", n=2, seed=1)
    ds = build_dataset("timelapse_folder", scenes=[str(a), str(b)], crop=32)
    assert len(ds) == 5
    assert tuple(ds[4]["frames"].shape) == (2, 3, 32, 32)
    with pytest.raises(ConfigError, match="either root or scenes"):
        build_dataset("timelapse_folder", root=str(tmp_path), scenes=[str(a)])


def test_adapt_cli_fine_tunes_on_a_video_and_a_frame_folder(tmp_path: Path) -> None:
    """The real command: decode a video, train two steps from the bundled weights, export, reload."""
    footage = tmp_path / "footage"
    video = _video(footage / "street.mp4", 6)
    folder = _frame_folder(footage / "yard")
    before = _digests(footage)
    out = tmp_path / "mine" / "cam.safetensors"
    done = run_cli(
        "adapt", video, folder, "-o", out, "--model", "memory", "--steps", "2", "--batch-size", "1",
        "--crop", "32", "--device", "cpu", "--force",  # texture-less noise footage: the motion probe cannot judge it
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "adapted memory on 2 scene(s) in 2 steps" in done.stdout
    assert _digests(footage) == before
    entry = json.loads(out.with_suffix(".json").read_text())["memory"]
    assert entry["steps"] == 2 and entry["command"].startswith("derain adapt")

    import torch

    import derain
    from derain.api import bundled_weights
    from derain.checkpoint import load_weights_file

    _, _, tuned = load_weights_file(out)
    _, _, bundled = load_weights_file(bundled_weights("memory"))
    assert tuned.keys() == bundled.keys()
    assert any(not torch.equal(tuned[k], bundled[k]) for k in tuned), "two steps of training changed nothing"
    restored = derain.load(out, "cpu")(smooth_image(40, 44))
    assert restored.shape == (40, 44, 3)


def test_adapt_cli_user_errors_are_one_line(tmp_path: Path) -> None:
    scene = _frame_folder(tmp_path / "cam")
    for args, message in [
        (("--model", "baseline"), "trained with ground truth"),
        (("-o", tmp_path / "x.pt"), "must be a .safetensors file"),
    ]:
        output = () if "-o" in args else ("-o", tmp_path / "x.safetensors")
        done = run_cli("adapt", scene, *output, *args)
        assert done.returncode == 2
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
