"""Trainer features for staged and averaged recipes: parameter groups, freezing, mapped init, EMA, TBPTT."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from trainkit import tiny_config, write_pairs

from derain.checkpoint import load_weights_file, save_weights
from derain.errors import ConfigError
from derain.models import build_model
from derain.train.config import parse_config
from derain.train.distributed import init_distributed
from derain.train.objectives.video import detach_state, time_windows
from derain.train.optim import Ema, build_optimizer
from derain.train.trainer import _Run, train
from derain.train.warmstart import initial_model

ARCH = {"channels": [4, 8], "bottleneck_blocks": 1}


@pytest.fixture(scope="module")
def pairs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("pairs"), 4)


def test_param_groups_get_their_own_lr(pairs_root: Path, tmp_path: Path) -> None:
    raw = tiny_config(pairs_root, tmp_path / "run", param_groups=[{"match": "head.*", "lr": 1e-5}])
    config = parse_config(raw)
    model = build_model("baseline", ARCH)
    optimizer = build_optimizer(model, torch.nn.Module(), config.train)
    default, head = optimizer.param_groups
    assert head["lr"] == 1e-5 and default["lr"] == 1e-3
    assert {id(p) for p in head["params"]} == {id(p) for p in model.head.parameters()}
    raw["train"]["param_groups"] = [{"match": "nothing.*", "lr": 1e-5}]
    with pytest.raises(ConfigError, match=r"train.param_groups\[0\].match: 'nothing.\*' matches no"):
        build_optimizer(model, torch.nn.Module(), parse_config(raw).train)


def test_frozen_modules_do_not_move_and_ema_is_validated_and_exported(pairs_root: Path, tmp_path: Path) -> None:
    raw = tiny_config(pairs_root, tmp_path / "run", steps=3, freeze=["encoders.0"], ema=0.5)
    raw["val"]["every"] = 3
    torch.manual_seed(0)
    train(parse_config(raw), command="test")
    step = torch.load(tmp_path / "run" / "checkpoints" / "step_000003.pt", weights_only=False)
    raw_w, ema_w = step["model"], step["ema"]["model"]
    _, _, exported = load_weights_file(tmp_path / "out.safetensors")
    assert all(torch.equal(exported[k], v.cpu()) for k, v in ema_w.items())  # the EMA weights are exported
    assert not all(torch.equal(raw_w[k], v) for k, v in ema_w.items())  # ... and they are not the raw ones
    # encoders.0 never moved: the raw weights there equal a fresh build with the same seed.
    torch.manual_seed(0)
    fresh = build_model("baseline", ARCH).state_dict()
    assert all(torch.equal(raw_w[k], fresh[k]) for k in raw_w if k.startswith("encoders.0."))
    assert not torch.equal(raw_w["head.weight"], fresh["head.weight"])


def test_freeze_typo_is_a_config_error(pairs_root: Path, tmp_path: Path) -> None:
    raw = tiny_config(pairs_root, tmp_path / "run", freeze=["encoder"])
    with pytest.raises(ConfigError, match=r"train.freeze\[0\]: 'encoder' names no parameter"):
        train(parse_config(raw), command="test")


def test_ema_decay_ramps_up_and_copies_buffers() -> None:
    model = torch.nn.BatchNorm2d(2)
    ema = Ema(model, 0.999)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.running_mean.fill_(7.0)
    ema.update(model)  # first update: decay min(0.999, 2/11)
    expected = 1.0 + (3.0 - 1.0) * (1 - 2 / 11)
    torch.testing.assert_close(ema.module.weight, torch.full((2,), expected))
    assert torch.equal(ema.module.running_mean, model.running_mean)


def test_init_map_starts_a_different_model_from_matching_names(pairs_root: Path, tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = build_model("baseline", ARCH)
    weights = save_weights(source, tmp_path / "w.safetensors", model_name="baseline", config=ARCH)
    raw = tiny_config(pairs_root, tmp_path / "run")
    raw["model"] = {
        "name": "baseline",
        "config": {"channels": [4, 8, 16], "bottleneck_blocks": 1},  # a wider, deeper U-Net
        "init": str(weights),
        "init_map": {"encoders.0": "encoders.0", "head": "head"},
    }
    model = initial_model(parse_config(raw).model)
    state = model.state_dict()
    for name in [k for k in state if k.startswith(("encoders.0.", "head."))]:
        assert torch.equal(state[name], source.state_dict()[name]), name
    raw["model"]["init_map"] = {"encoders.2": "encoders.1"}  # 8 -> 16 channels vs 4 -> 8
    with pytest.raises(ConfigError, match=r"model.init_map: encoders\.2.* shapes differ"):
        initial_model(parse_config(raw).model)
    raw["model"]["init_map"] = {"refine": "head"}
    with pytest.raises(ConfigError, match="prefix 'refine' names no parameter"):
        initial_model(parse_config(raw).model)


def test_tbptt_needs_a_video_model_and_ema_a_decay_below_one(pairs_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train\.tbptt: only video models"):
        parse_config(tiny_config(pairs_root, tmp_path / "run", tbptt=2))
    with pytest.raises(ConfigError, match=r"train\.ema: must be"):
        parse_config(tiny_config(pairs_root, tmp_path / "run", ema=1.0))
    raw = tiny_config(pairs_root, tmp_path / "run")
    raw["objective"] = {"name": "video_supervised"}
    raw["data"] = {"kind": "video_folder", "options": {"root": str(pairs_root), "frames": 2}}
    with pytest.raises(ConfigError, match=r"objective\.name: 'video_supervised' trains on video batches"):
        parse_config(raw)


def test_time_windows_cut_clips_and_detach_keeps_structure() -> None:
    batch = {"rain": torch.rand(2, 5, 3, 4, 4), "clean": torch.rand(2, 5, 3, 4, 4), "name": ["a", "b"]}
    windows = time_windows(batch, 2)
    assert [w["rain"].shape[1] for w in windows] == [2, 2, 1]
    assert torch.equal(torch.cat([w["clean"] for w in windows], dim=1), batch["clean"])
    assert windows[2]["name"] == ["a", "b"] and time_windows(batch, None) == [batch]
    x = torch.ones(2, requires_grad=True) * 2
    state = detach_state({"h": (x, [x]), "n": 3})
    assert not state["h"][0].requires_grad and not state["h"][1][0].requires_grad and state["n"] == 3


class _ThreadCounts(torch.utils.data.Dataset):
    """Each item reports the OpenCV and torch thread counts of the process that rendered it."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> torch.Tensor:
        import cv2

        return torch.tensor([cv2.getNumThreads(), torch.get_num_threads()])


@pytest.mark.timeout(60)
def test_rendering_workers_run_single_threaded(pairs_root: Path, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    from derain.train.batches import BatchStream
    from derain.train.distributed import DistEnv

    # OpenCV's pool already running in this process (as after validation): a setting made inside the
    # forked worker would deadlock here
    cv2.GaussianBlur(np.zeros((1024, 1024), np.float32), (0, 0), 5)
    train_section = parse_config(tiny_config(pairs_root, tmp_path / "run", num_workers=1)).train
    env = DistEnv(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))
    counts = next(BatchStream(_ThreadCounts(), train_section, env))
    assert counts.tolist() == [[1, 1], [1, 1]]


def test_channels_last_training_holds_the_layout_and_learns_the_same_weights(pairs_root: Path, tmp_path: Path) -> None:
    config = parse_config(tiny_config(pairs_root, tmp_path / "probe", channels_last=True))
    run = _Run(config, init_distributed("cpu"), "test", None)
    conv = next(m for m in run.model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    batch = run.next_batch()
    assert batch["rain"].is_contiguous(memory_format=torch.channels_last)
    assert not batch["rain"].is_contiguous()  # a real layout change, not a 1-channel no-op
    exported = {}
    torch.manual_seed(0)
    start = build_model("baseline", ARCH).state_dict()
    for layout in (False, True):
        out = tmp_path / f"layout_{layout}"
        torch.manual_seed(0)
        train(parse_config(tiny_config(pairs_root, out / "run", steps=3, channels_last=layout)), command="test")
        exported[layout] = load_weights_file(out / "out.safetensors")[2]
    assert not torch.equal(exported[True]["head.weight"], start["head.weight"])
    for name, tensor in exported[False].items():
        torch.testing.assert_close(exported[True][name], tensor, atol=1e-5, rtol=1e-4)
