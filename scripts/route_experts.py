"""Join a light-rain and a heavy-rain expert into one routed model, its ramp calibrated on held-out rain.

Both files hold the same routable model (``php`` or ``fastnet``) with the same architecture. The routed
model (:mod:`derain.models.routing`) runs the light expert, hands an image to the heavy expert
as the rain the light one removes grows, and blends the two in between. Where the ramp sits is
measured, not tuned on a dev set: ``low`` is the largest intensity of any ``--light-rain`` image (every
one of them stays with the light expert), ``high`` the median intensity of the ``--heavy-rain`` images
(half of them go wholly to the heavy expert). Use held-out rain only (``runs/val``, rendered from
photos no recipe trains on); the rain images are read, their clean pairs never are.

    python scripts/route_experts.py runs/light.safetensors runs/heavy.safetensors runs/routed.safetensors \
        --light-rain runs/val/kodak_light/rain runs/val/sk_light/rain \
        --heavy-rain runs/val/long_ho/rain --blend weights --report runs/route.json

(``scripts/php_route.py``, which built the bundled php, was this script for php alone.)
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
import sys
from pathlib import Path

import torch

from _new_weights import write_new_weights
from derain.atomic import atomic_path
from derain.checkpoint import apply_weights, file_config, load_weights_file
from derain.data.io import list_images, read_rgb
from derain.errors import DerainError
from derain.inference.convert import to_batch
from derain.models import build_model
from derain.models.base import pad_to_multiple
from derain.models.routing import RoutableModel, rain_intensity


def expert(path: Path) -> tuple[RoutableModel, str, dict]:
    """A single (unrouted) routable model from ``path``, its name and its config overrides."""
    name, config, state = load_weights_file(path)
    config = file_config(name, config)
    model = build_model(name, config)
    if not isinstance(model, RoutableModel):
        raise DerainError(f"{path}: holds {name!r} weights, which cannot be routed (php and fastnet can)")
    if config.get("route_high"):
        raise DerainError(f"{path}: is already a routed {name}; pass its single experts")
    return apply_weights(model, state, path).eval(), name, config


def rain_images(patterns: list[str]) -> list[Path]:
    """Images of each argument: a folder's images, or the files a glob pattern matches."""
    paths: list[Path] = []
    for pattern in patterns:
        found = list_images(pattern) if Path(pattern).is_dir() else sorted(Path(p) for p in glob.glob(pattern))
        if not found:
            raise DerainError(f"{pattern}: no images")
        paths += found
    return paths


@torch.inference_mode()
def intensities(light: RoutableModel, paths: list[Path]) -> dict[str, float]:
    """The routing intensity of each image, as the routed model computes it (the engine pads to the divisor)."""
    padded = {p: pad_to_multiple(to_batch(read_rgb(p))[0], light.size_divisor)[0] for p in paths}
    return {str(p): float(rain_intensity(light.expert, x)[0]) for p, x in padded.items()}


def ramp(light: dict[str, float], heavy: dict[str, float]) -> tuple[float, float]:
    """``(low, high)``: the light images' largest intensity and the heavy images' median (module docstring)."""
    low, high = max(light.values()), statistics.median(heavy.values())
    if high <= low:
        raise DerainError(
            f"no separation: the heavy-rain median intensity {high:.4f} is not above the light-rain maximum {low:.4f}"
        )
    return low, high


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("light", type=Path, help="weights for light rain (routes every image first)")
    parser.add_argument("heavy", type=Path, help="weights for heavy rain (same model and architecture)")
    parser.add_argument("out", type=Path, help="where to write the routed weights (must not exist)")
    parser.add_argument("--light-rain", nargs="+", required=True, help="held-out light-rain images: folders or globs")
    parser.add_argument("--heavy-rain", nargs="+", required=True, help="held-out heavy-rain images: folders or globs")
    parser.add_argument(
        "--blend",
        choices=["outputs", "weights"],
        default="outputs",
        help="inside the ramp: mix both experts' outputs, or run once with their weights mixed "
        "(only for a heavy expert continued from the light one)",
    )
    parser.add_argument("--report", type=Path, help="also write every image's intensity and the ramp as JSON")
    args = parser.parse_args()

    def make() -> tuple[torch.nn.Module, str, dict, str]:
        light, name, config = expert(args.light)
        heavy, heavy_name, heavy_config = expert(args.heavy)
        if (heavy_name, heavy_config) != (name, config):
            raise DerainError(
                f"{args.heavy}: its model differs from {args.light}'s ({heavy_name} {heavy_config} vs {name} {config})"
            )
        light_r = intensities(light, rain_images(args.light_rain))
        heavy_r = intensities(light, rain_images(args.heavy_rain))
        low, high = ramp(light_r, heavy_r)
        routed_config = {**config, "route_low": low, "route_high": high, "route_blend": args.blend}
        routed = build_model(name, routed_config)
        state = {**light.state_dict(), **{f"heavy.{k}": v for k, v in heavy.state_dict().items()}}
        routed.load_state_dict(state, strict=True)
        if args.report is not None:
            report = {"low": low, "high": high, "light": light_r, "heavy": heavy_r}
            with atomic_path(args.report) as tmp:
                tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return routed, name, routed_config, f"route {low:.4f} -> {high:.4f}"

    return write_new_weights("route_experts", args.out, make)


if __name__ == "__main__":
    sys.exit(main())
