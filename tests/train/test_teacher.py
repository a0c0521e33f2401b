"""The frozen teacher: a weights file's output as an extra target, never trained, never checkpointed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from trainkit import tiny_config, write_pairs

from derain.checkpoint import save_weights
from derain.errors import ConfigError
from derain.models import build_model
from derain.train.config import parse_config
from derain.train.objectives import OBJECTIVES
from derain.train.runlog import read_log
from derain.train.teacher import Teacher
from derain.train.trainer import train

TINY_UNET = {"channels": [4, 8], "bottleneck_blocks": 1}


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny baseline (it pools once: sides must be even) with random weights, saved as a weights file."""
    torch.manual_seed(123)  # not the trainer's seed: a student built there must differ from the teacher
    model = build_model("baseline", TINY_UNET)
    return save_weights(
        model, tmp_path_factory.mktemp("teacher") / "t.safetensors", model_name="baseline", config=TINY_UNET
    )


def test_teacher_is_the_files_model_padded_cropped_and_clamped(teacher_file: Path) -> None:
    teacher = Teacher(str(teacher_file))
    reference = build_model("baseline", TINY_UNET)
    reference.load_state_dict(teacher.model.state_dict())
    assert teacher.model.size_divisor == 2
    x = torch.rand(2, 3, 15, 21)  # odd sides: the teacher pads to its divisor (reflect) and crops back
    out = teacher(x)
    assert out.shape == x.shape and not out.requires_grad
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    padded = torch.nn.functional.pad(x, (0, 1, 0, 1), mode="reflect")
    with torch.no_grad():
        expected = reference.eval()(padded).background[..., :15, :21].clamp(0, 1)
    torch.testing.assert_close(out, expected)


def test_supervised_teacher_term_pulls_towards_the_teacher_only(teacher_file: Path) -> None:
    objective = OBJECTIVES.get("supervised")(teacher=str(teacher_file), teacher_weight=0.5)
    student = build_model("baseline", TINY_UNET)
    batch = {"rain": torch.rand(2, 3, 16, 16), "clean": torch.rand(2, 3, 16, 16)}
    loss, terms = objective(student, batch, 0.0)
    assert set(terms) == {"l1", "teacher"}
    with torch.no_grad():
        expected = (student(batch["rain"]).background - objective.teacher(batch["rain"])).abs().mean()
    assert terms["teacher"] == pytest.approx(float(expected), rel=1e-5)
    assert float(loss) == pytest.approx(terms["l1"] + 0.5 * terms["teacher"], rel=1e-5)
    loss.backward()
    assert all(p.grad is None for p in objective.teacher.model.parameters())
    assert list(objective.parameters()) == [] and objective.state_dict() == {}


def test_php_teacher_term_is_charbonnier_against_the_teacher(teacher_file: Path) -> None:
    objective = OBJECTIVES.get("php")(teacher=str(teacher_file), lambda_teacher=2.0)
    coarse, fine, clean = (torch.rand(1, 3, 8, 8) for _ in range(3))
    loss, terms = objective.loss(coarse, fine, clean, taught=fine.clone())
    assert terms["teacher"] == pytest.approx(1e-3, rel=1e-3)  # Charbonnier of a zero error is eps
    _, far = objective.loss(coarse, fine, clean, taught=1.0 - fine)
    assert far["teacher"] > 0.1
    assert float(loss) == pytest.approx(terms["coarse"] + terms["fine"] + 0.1 * terms["col"] + 2.0 * terms["teacher"])
    assert "teacher" not in OBJECTIVES.get("php")().loss(coarse, fine, clean)[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"teacher_weight": 1.0}, r"^objective\.options\.teacher_weight: set objective\.options\.teacher"),
        ({"teacher": "bundled:baseline"}, r"^objective\.options\.teacher: give it a weight"),
        ({"teacher": "bundled", "teacher_weight": 1.0}, r"^objective\.options\.teacher: say which model"),
        ({"teacher": "missing.safetensors", "teacher_weight": 1.0}, r"^objective\.options\.teacher: .*missing"),
        ({"teacher": "bundled:nosuchmodel", "teacher_weight": 1.0}, r"^objective\.options\.teacher: .*nosuchmodel"),
    ],
)
def test_bad_teacher_options_are_one_line_config_errors(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        OBJECTIVES.get("supervised")(**options)


def test_php_lambda_without_teacher_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^objective\.options\.lambda_teacher: set objective\.options\.teacher"):
        OBJECTIVES.get("php")(lambda_teacher=1.0)


def test_video_model_cannot_teach(tmp_path: Path) -> None:
    config = {"channels": 4, "blocks": 1}
    path = save_weights(build_model("j4r", config), tmp_path / "v.safetensors", model_name="j4r", config=config)
    with pytest.raises(ConfigError, match="video model"):
        Teacher(str(path))


def test_training_with_a_teacher_logs_it_and_keeps_it_out_of_checkpoints(teacher_file: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    raw = tiny_config(pairs, tmp_path / "run", steps=3, ckpt_every=3)
    raw["objective"]["options"] |= {"teacher": str(teacher_file), "teacher_weight": 1.0}
    train(parse_config(raw))
    log = [row for row in read_log(tmp_path / "run" / "log.jsonl") if "loss" in row]
    assert log and all(row["teacher"] > 0 for row in log)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "step_000003.pt", weights_only=False)
    assert ckpt["objective"] == {}
