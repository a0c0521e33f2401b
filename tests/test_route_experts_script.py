"""``scripts/route_experts.py``: two experts joined into one routed model, run as a user would (subprocess).

The light expert is a tiny php that brightens every pixel by 0.5 (its first head's bias), clipped at 1, so the
intensity it measures is known exactly: ``min(0.5, 1 - v)`` for a flat image of value ``v``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from derain.checkpoint import build_from_file, save_weights
from derain.data.io import write_image
from derain.models import build_model
from routed import TINY as ROUTABLE
from routed import shift

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "route_experts.py"
FAST_TINY = ROUTABLE["fastnet"]


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)


def _expert(path: Path, brighten: float, **extra: object) -> None:
    config = {**ROUTABLE["php"], **extra}
    model = build_model("php", config)
    shift(model, "php", brighten)
    save_weights(model, path, model_name="php", config=config)


def _flat_images(folder: Path, values: list[int]) -> Path:
    folder.mkdir(parents=True)
    for v in values:
        write_image(folder / f"flat_{v}.png", np.full((16, 24, 3), v / 255, dtype=np.float32))
    return folder


@pytest.fixture
def experts(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    _expert(tmp_path / "light.safetensors", 0.5)
    _expert(tmp_path / "heavy.safetensors", 0.0)  # the identity: what the heavy expert does is visible
    light = _flat_images(tmp_path / "light_rain", [230, 242])  # intensities 0.098, 0.051
    heavy = _flat_images(tmp_path / "heavy_rain", [25, 51, 76])  # 0.5 each
    return tmp_path / "light.safetensors", tmp_path / "heavy.safetensors", light, heavy


def test_route_calibrates_the_ramp_on_held_out_rain_and_blends_the_experts(experts, tmp_path: Path) -> None:
    light, heavy, light_rain, heavy_rain = experts
    out, report = tmp_path / "routed.safetensors", tmp_path / "route.json"
    done = _run(
        light, heavy, out, "--light-rain", light_rain, "--heavy-rain", f"{heavy_rain}/flat_*.png", "--report", report
    )
    assert done.returncode == 0, done.stderr
    ramp = json.loads(report.read_text())
    assert ramp["low"] == pytest.approx(1 - 230 / 255) and ramp["high"] == pytest.approx(0.5)
    name, routed = build_from_file(out)
    assert name == "php" and routed.config.route_low == pytest.approx(ramp["low"])
    routed.eval()
    with torch.no_grad():
        for value, weight in ((0.95, 0.0), (0.7, (0.3 - ramp["low"]) / (0.5 - ramp["low"])), (0.2, 1.0)):
            x = torch.full((1, 3, 16, 24), value)
            light_out = min(value + 0.5, 1.0)
            expected = light_out + weight * (value - light_out)
            assert routed(x).background.mean().item() == pytest.approx(expected, abs=1e-5), value
    mixed = tmp_path / "mixed.safetensors"
    done = _run(light, heavy, mixed, "--light-rain", light_rain, "--heavy-rain", heavy_rain, "--blend", "weights")
    assert done.returncode == 0, done.stderr
    assert build_from_file(mixed)[1].config.route_blend == "weights" and routed.config.route_blend == "outputs"


def test_route_refuses_bad_requests_with_one_line(experts, tmp_path: Path) -> None:
    light, heavy, light_rain, heavy_rain = experts
    out = tmp_path / "routed.safetensors"
    swapped = _run(light, heavy, out, "--light-rain", heavy_rain, "--heavy-rain", light_rain)
    assert swapped.returncode == 1 and "no separation" in swapped.stderr and not out.exists()
    _expert(tmp_path / "wide.safetensors", 0.0, width=12)
    mismatch = _run(light, tmp_path / "wide.safetensors", out, "--light-rain", light_rain, "--heavy-rain", heavy_rain)
    assert mismatch.returncode == 1 and "model differs" in mismatch.stderr and not out.exists()
    fast = tmp_path / "fast.safetensors"
    model = build_model("fastnet", FAST_TINY)
    save_weights(model, fast, model_name="fastnet", config=FAST_TINY)
    mixed_models = _run(light, fast, out, "--light-rain", light_rain, "--heavy-rain", heavy_rain)
    assert mixed_models.returncode == 1 and "model differs" in mixed_models.stderr and not out.exists()
    base = tmp_path / "baseline.safetensors"
    base_config = {"channels": [4, 8], "bottleneck_blocks": 1}
    save_weights(build_model("baseline", base_config), base, model_name="baseline", config=base_config)
    unroutable = _run(base, base, out, "--light-rain", light_rain, "--heavy-rain", heavy_rain)
    assert unroutable.returncode == 1 and "cannot be routed" in unroutable.stderr and not out.exists()
    empty = _run(light, heavy, out, "--light-rain", tmp_path / "nothing_*.png", "--heavy-rain", heavy_rain)
    assert empty.returncode == 1 and "no images" in empty.stderr and len(empty.stderr.splitlines()) == 1
    assert _run(light, heavy, out, "--light-rain", light_rain, "--heavy-rain", heavy_rain).returncode == 0
    again = _run(out, heavy, tmp_path / "twice.safetensors", "--light-rain", light_rain, "--heavy-rain", heavy_rain)
    assert again.returncode == 1 and "already a routed php" in again.stderr


def test_route_joins_two_fastnet_experts_into_a_routed_fastnet(tmp_path: Path) -> None:
    """The light fastnet brightens by 0.5 (its output layer's bias: rain = -0.5), the heavy one is random."""
    torch.manual_seed(0)
    light, heavy = tmp_path / "light.safetensors", tmp_path / "heavy.safetensors"
    model = build_model("fastnet", FAST_TINY)
    save_weights(model, heavy, model_name="fastnet", config=FAST_TINY)
    shift(model, "fastnet", 0.5)
    save_weights(model, light, model_name="fastnet", config=FAST_TINY)
    light_rain = _flat_images(tmp_path / "light_rain", [230, 242])
    heavy_rain = _flat_images(tmp_path / "heavy_rain", [25, 51, 76])
    out = tmp_path / "routed.safetensors"
    done = _run(light, heavy, out, "--light-rain", light_rain, "--heavy-rain", heavy_rain, "--blend", "weights")
    assert done.returncode == 0, done.stderr
    name, routed = build_from_file(out)
    assert name == "fastnet" and routed.heavy is not None and routed.tiling.kind == "global"
    assert routed.config.route_low == pytest.approx(1 - 230 / 255) and routed.config.route_high == pytest.approx(0.5)
    routed.eval()
    x = torch.full((1, 3, 16, 24), 0.2)  # intensity 0.5: wholly the heavy expert
    with torch.no_grad():
        assert torch.equal(routed(x).background, routed.heavy(x).background)
