"""Config schema: typed parsing, dotted-key errors, overrides, cross-checks, the bundled recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from trainkit import save_yaml, tiny_config, write_pairs

from derain.errors import ConfigError
from derain.train.config import config_to_dict, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("cfg")
    return tiny_config(write_pairs(root / "pairs", 2), root / "run")


def test_parses_types_and_round_trips(raw: dict) -> None:
    config = parse_config(raw)
    assert config.train.lr == 1e-3  # YAML 1.1 reads "1e-3" as a string; floats accept it
    assert config.train.betas == (0.9, 0.999) and config.train.optimizer == "adam"
    assert parse_config(config_to_dict(config)) == config


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lrr=1", "train.lrr: unknown key; did you mean train.lr?"),
        ("trian.lr=1", "trian: unknown key; did you mean train?"),
        ("train.steps=0", "train.steps: must be >= 1 (got 0)"),
        ("train.steps=1.5", "train.steps: expected int (got 1.5)"),
        ("train.optimizer=sgd", "train.optimizer: must be one of adam, adamw (got 'sgd')"),
        ("train.betas=[0.9]", "train.betas: expected 2 values (got 1)"),
        ("train.schedule=step", "train.milestones: schedule 'step' needs at least one milestone"),
        ("model.name=baselin", "model.name: unknown model 'baselin'; did you mean baseline?"),
        ("model.config.width=3", "model.config.width: unknown key (known: channels, bottleneck_blocks)"),
        ("model.config.channels=[4, x]", "model.config.channels[1]: expected int (got 'x')"),
        ("model.config.channels=[0, 4]", "model.config.channels[0]: must be >= 1 (got 0)"),
        (
            "objective.options.ssim_wieght=1",
            "objective.options.ssim_wieght: unknown key; did you mean objective.options.ssim_weight?",
        ),
        ("objective.options.ssim_weight=-1", "objective.options.ssim_weight: must be >= 0 (got -1)"),
        ("objective.options.ssim_weight=x", "objective.options.ssim_weight: expected float (got 'x')"),
        ("data.options.crop=0", "data.options.crop: must be >= 1 (got 0)"),
        ("data.options.flip=1", "data.options.flip: expected bool (got 1)"),
        ("data.options.rain_dirr=a", "data.options.rain_dirr: unknown key; did you mean data.options.rain_dir?"),
        ("data.kind=paired_folders", "data.kind: unknown dataset 'paired_folders'; did you mean paired_folder"),
        ("train.lr=0", "train.lr: must be > 0 (got 0)"),
        ("data.kind=synthetic_timelapse", "data.kind: objective 'supervised' trains on paired batches"),
        ("val.path=/nonexistent/val", "val.path: /nonexistent/val does not exist"),
        ("output.export={path: a.safetensors}", "output.export.name: required key is missing"),
        ("train", "--set 'train': expected KEY=VALUE"),
    ],
)
def test_mistakes_are_one_line_errors_naming_the_key(raw: dict, tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(save_yaml(raw, tmp_path / "c.yaml"), [override])
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_overrides_are_yaml_and_nest(raw: dict, tmp_path: Path) -> None:
    path = save_yaml(raw, tmp_path / "c.yaml")
    config = load_config(path, ["train.lr=2e-4", "train.amp=bf16", "val=null", "model.config.channels=[2, 4]"])
    assert config.train.lr == 2e-4 and config.train.amp == "bf16" and config.val is None
    assert config.model.config["channels"] == [2, 4]


def test_bundled_baseline_recipe_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    val = write_pairs(tmp_path / "val", 1)
    config = load_config(REPO / "configs" / "baseline.yaml", [f"val.path={val}"])
    assert (config.model.name, config.objective.name, config.data.kind) == ("baseline", "supervised", "synthetic_pairs")
    assert config.output.export is not None and config.output.export.name == "baseline"
    assert "Kodak24" in config.data.options["exclude"]


def test_model_init_starts_from_given_weights(tmp_path: Path) -> None:
    """``model.init`` loads a weights file (fine-tuning / camera adaptation); a wrong model is a ConfigError."""
    import torch

    from derain.checkpoint import save_weights
    from derain.models import build_model
    from derain.train.warmstart import initial_model

    arch = {"channels": [4, 8], "bottleneck_blocks": 1}
    torch.manual_seed(3)
    source = build_model("baseline", arch)
    weights = save_weights(source, tmp_path / "w.safetensors", model_name="baseline", config=arch)
    raw = tiny_config(write_pairs(tmp_path / "pairs", 2), tmp_path / "run")
    raw["model"]["init"] = str(weights)
    model = initial_model(parse_config(raw).model)
    for name, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name

    raw["model"] = {"name": "memory", "config": {"channels": 8, "items": 3}, "init": str(weights)}
    with pytest.raises(ConfigError, match=r"holds weights of 'baseline'.*declare model\.init_map"):
        initial_model(parse_config(raw).model)


def test_a_routed_file_continues_one_expert_through_init_map(tmp_path: Path) -> None:
    """A routed fastnet (two experts) cannot train; init_map picks the light or the heavy expert to continue."""
    import torch

    from derain.checkpoint import save_weights
    from derain.models import build_model
    from derain.train.warmstart import initial_model

    arch = {"width": 4, "enc_blocks": [1, 1], "middle_blocks": 1, "dec_blocks": [1, 1]}
    routed_arch = {**arch, "route_low": 0.01, "route_high": 0.02}
    torch.manual_seed(4)
    routed = build_model("fastnet", routed_arch)
    weights = save_weights(routed, tmp_path / "w.safetensors", model_name="fastnet", config=routed_arch)
    raw = tiny_config(write_pairs(tmp_path / "pairs", 2), tmp_path / "run")
    raw["model"] = {"name": "fastnet", "config": arch, "init": str(weights)}
    with pytest.raises(ConfigError, match=r"model.init: .* holds a routed fastnet .*model.init_map"):
        initial_model(parse_config(raw).model)
    for prefix, expert in (("", routed), ("heavy", routed.heavy)):
        raw["model"]["init_map"] = {"": prefix}
        model = initial_model(parse_config(raw).model)
        assert model.heavy is None
        for name, value in expert.state_dict().items():
            if not name.startswith("heavy."):
                assert torch.equal(model.state_dict()[name], value), (prefix, name)
