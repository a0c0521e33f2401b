"""Objective ``php`` (eq. 5): terms and weights, the segmentation term with and without labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import smooth_image
from derain.errors import ConfigError
from derain.losses.php import charbonnier_loss, gaussian_lowpass
from derain.models import build_model
from derain.models.base import DerainModel, ModelOutput
from derain.train.objectives import OBJECTIVES

TINY_PHP = {"width": 8, "blocks": 1, "refine_width": 4, "refine_blocks": 1}


class _Oracle(DerainModel):
    """Returns fixed coarse and fine outputs, whatever the input."""

    def __init__(self, coarse: torch.Tensor, fine: torch.Tensor) -> None:
        super().__init__()
        self.coarse, self.fine = coarse, fine

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return ModelOutput(background=self.fine, coarse=self.coarse)


def test_perfect_outputs_cost_only_epsilon():
    clean = torch.from_numpy(smooth_image(16, 16)).permute(2, 0, 1)[None] * 0.8 + 0.1
    objective = OBJECTIVES.get("php")()
    _loss, terms = objective(_Oracle(gaussian_lowpass(clean), clean), {"rain": clean, "clean": clean}, 0.0)
    assert set(terms) == {"coarse", "fine", "col"}  # no labels -> no segmentation term
    assert terms["coarse"] == pytest.approx(1e-3, rel=1e-3) and terms["fine"] == pytest.approx(1e-3, rel=1e-3)
    assert terms["col"] < 5e-3  # a smooth image keeps its colour directions under the low-pass


def test_weights_combine_terms():
    clean = torch.rand(1, 3, 16, 16)
    coarse, fine = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    objective = OBJECTIVES.get("php")(lambda_coarse=2.0, lambda_fine=0.5, lambda_col=0.1)
    loss, terms = objective(_Oracle(coarse, fine), {"rain": clean, "clean": clean}, 0.0)
    assert terms["coarse"] == pytest.approx(float(charbonnier_loss(coarse, gaussian_lowpass(clean))), rel=1e-5)
    assert float(loss) == pytest.approx(2 * terms["coarse"] + 0.5 * terms["fine"] + 0.1 * terms["col"], rel=1e-5)


def test_ssim_term_is_off_by_default_and_scores_structure_when_on():
    """The optional SSIM term (not in eq. 5) is absent at 0; on it is 1 - SSIM of X, blind to X^c."""
    clean = torch.from_numpy(smooth_image(24, 24)).permute(2, 0, 1)[None] * 0.8 + 0.1
    speckled = (clean + 0.1 * torch.randn(1, 1, 24, 24, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    shifted = (clean + 0.1).clamp(0, 1)  # a uniform brightness error: no structure lost
    plain = OBJECTIVES.get("php")()
    _loss, terms = plain(_Oracle(clean, speckled), {"rain": clean, "clean": clean}, 0.0)
    assert "ssim" not in terms
    objective = OBJECTIVES.get("php")(lambda_ssim=0.5)
    loss, terms = objective(_Oracle(speckled, clean), {"rain": clean, "clean": clean}, 0.0)
    assert terms["ssim"] == pytest.approx(0.0, abs=1e-5)  # a perfect X; a speckled X^c does not count
    _loss, noisy = objective(_Oracle(clean, speckled), {"rain": clean, "clean": clean}, 0.0)
    _loss, brighter = objective(_Oracle(clean, shifted), {"rain": clean, "clean": clean}, 0.0)
    assert noisy["ssim"] > 0.2 and noisy["ssim"] > 5 * brighter["ssim"]
    base = terms["coarse"] + terms["fine"] + 0.1 * terms["col"]
    assert float(loss) == pytest.approx(base + 0.5 * terms["ssim"], rel=1e-5)
    with pytest.raises(ConfigError, match="lambda_"):
        OBJECTIVES.get("php")(lambda_ssim=-1.0)


def test_balance_images_gives_a_lightly_wrong_image_more_pull_through_both_charbonnier_terms():
    """Same loss value; the image whose outputs are 10x less wrong gets 10x the gradient (1x unbalanced)."""
    clean = torch.full((2, 3, 8, 8), 0.5)
    offsets = torch.tensor([0.3, 0.03]).view(2, 1, 1, 1)
    ratios, values = {}, {}
    for balanced in (False, True):
        coarse = (clean + offsets).requires_grad_()
        fine = (clean + offsets).requires_grad_()
        objective = OBJECTIVES.get("php")(lambda_col=0.0, balance_images=balanced)
        loss, terms = objective(_Oracle(coarse, fine), {"rain": clean, "clean": clean}, 0.0)
        loss.backward()
        values[balanced] = (terms["coarse"], terms["fine"])
        ratios[balanced] = [float(g.grad[1].abs().mean() / g.grad[0].abs().mean()) for g in (coarse, fine)]
    assert values[True] == pytest.approx(values[False], rel=1e-5)
    assert ratios[False] == pytest.approx([1.0, 1.0], rel=1e-3)
    assert ratios[True] == pytest.approx([10.0, 10.0], rel=2e-2)


def test_bad_options_and_models_are_config_errors():
    with pytest.raises(ConfigError, match="lowpass_kernel"):
        OBJECTIVES.get("php")(lowpass_kernel=4)
    with pytest.raises(ConfigError, match="seg_classes"):
        OBJECTIVES.get("php")(seg_classes=1)
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ConfigError, match="coarse"):
        OBJECTIVES.get("php")()(build_model("baseline", {"channels": (4, 8)}), {"rain": x, "clean": x}, 0.0)
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    with pytest.raises(ConfigError, match="seg_classes"):
        OBJECTIVES.get("php")()(build_model("php", TINY_PHP), {"rain": x, "clean": x, "labels": labels}, 0.0)


def _shapes_set(count: int, size: int = 24) -> dict[str, torch.Tensor]:
    """Coloured discs (class 1) and squares (class 2) on grey (class 0), with their masks and light rain."""
    rng = np.random.default_rng(0)
    clean = np.full((count, size, size, 3), 0.5, np.float32)
    labels = np.zeros((count, size, size), np.int64)
    yy, xx = np.mgrid[:size, :size]
    for i in range(count):
        cy, cx, r = rng.integers(7, size - 7), rng.integers(7, size - 7), rng.integers(4, 7)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r if i % 2 else (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        clean[i][mask] = rng.uniform(0.1, 0.9, 3)
        labels[i][mask] = 1 + i % 2
    rain = np.clip(clean + 0.5 * (rng.random((count, size, size, 1)) > 0.95), 0, 1).astype(np.float32)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))  # noqa: E731
    return {"rain": as_t(rain), "clean": as_t(clean), "labels": torch.from_numpy(labels)}


@pytest.mark.slow
def test_segmentation_term_learns_shapes_and_reaches_the_derainer():
    torch.manual_seed(0)
    batch = _shapes_set(6)
    model = build_model("php", TINY_PHP)
    objective = OBJECTIVES.get("php")(seg_classes=3, seg_width=8, seg_blocks=1)
    optimiser = torch.optim.Adam([*model.parameters(), *objective.parameters()], lr=1e-2)
    for _ in range(30):
        loss, terms = objective(model, batch, 0.0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert set(terms) == {"coarse", "fine", "col", "seg"}
    # Beating the entropy of the class frequencies needs the shapes' positions: the head reads X^c.
    freq = torch.bincount(batch["labels"].flatten(), minlength=3).float() / batch["labels"].numel()
    prior_entropy = float(-(freq * freq.log()).sum())
    assert terms["seg"] < 0.85 * prior_entropy
    # L_seg alone sends gradients into the first sub-network (semantic regularisation of X^c).
    model.zero_grad()
    seg_only = OBJECTIVES.get("php")(
        lambda_coarse=0, lambda_fine=0, lambda_col=0, seg_classes=3, seg_width=8, seg_blocks=1
    )
    seg_only.segmenter.load_state_dict(objective.segmenter.state_dict())
    seg_only(model, batch, 0.0)[0].backward()
    assert sum(float(p.grad.abs().sum()) for p in model.structure.parameters()) > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.detail.parameters())


@pytest.mark.slow
def test_php_recipe_trains_through_the_cli(tmp_path):
    """configs/php.yaml's model, objective and php_intensity data, shrunk, through the real ``derain train``."""
    from conftest import REPO, run_cli
    from derain.data.io import write_image

    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "photos" / "set" / f"{i}.png", rng.random((40, 40, 3)).astype(np.float32))
    sets = [
        f"data.options.clean_dir={tmp_path / 'photos'}",
        "data.options.exclude=[]",
        "data.options.crop=32",
        "data.options.length=8",
        "val=null",
        "train.steps=2",
        "train.batch_size=2",
        "train.num_workers=0",
        "train.warmup_steps=0",
        f"model.config={TINY_PHP}",
        f"output.dir={tmp_path / 'run'}",
        f"output.export.path={tmp_path / 'php.safetensors'}",
        f"output.export.manifest={tmp_path / 'manifest.json'}",
    ]
    done = run_cli("train", REPO / "configs" / "php.yaml", *(arg for s in sets for arg in ("--set", s)), cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "php.safetensors").is_file()
