"""Is every PHP block used? Per block, the size of its residual and its live branch channels.

A PHP block adds ``f`` to its input ``x`` (``derain.layers.pyramid.PHPBlock``). For each block this
reports ``mean |f| / mean |x|`` over the first images of two dev sets, and the share of its branch
channels (ReLU outputs) that are positive on at least 1 % of the pixels. A block whose ratio is 0 and
whose channels are all dead computes nothing: growing php by blocks (``scripts/php_grow.py``) is only
worth its time if the new blocks stay alive.

    python benchmarks/php_blocks.py [--weights LABEL=FILE ...] [--images 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import derain
from _results import markdown_table, write_results
from derain.commands._options import parse_weights
from derain.data.arrays import to_chw
from derain.data.io import read_rgb
from derain.data.pairing import find_paired_layout, pair_folders
from derain.hardware import describe_hardware

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO.parent / "shared" / "data" / "bench" / "paired"
SETS = ("rain100h_trainsub18", "rain12")
LIVE_SHARE = 0.01


def block_use(model: torch.nn.Module, images: list[Path]) -> dict[str, tuple[float, float]]:
    """``{block: (mean |f| / mean |x|, share of live branch channels)}`` over ``images``."""
    residual: dict[str, list[float]] = {}
    positive: dict[tuple[str, int], list[torch.Tensor]] = {}  # (block, branch): per-channel share, per image
    hooks = []
    for sub in ("structure", "detail"):
        for index, block in enumerate(getattr(model, sub).blocks):
            key = f"{sub}.blocks.{index}"

            def on_block(module, inputs, output, key=key) -> None:
                residual.setdefault(key, []).append(float((output - inputs[0]).abs().mean() / inputs[0].abs().mean()))

            hooks.append(block.register_forward_hook(on_block))
            for b, conv in enumerate(block.branches):

                def on_branch(module, inputs, output, branch=(key, b)) -> None:
                    # the convolution's output, before the ReLU: "positive" is exactly "passes it"
                    positive.setdefault(branch, []).append((output > 0).float().mean(dim=(0, 2, 3)))

                hooks.append(conv.register_forward_hook(on_branch))
    with torch.no_grad():
        for path in images:
            model(to_chw(read_rgb(path))[None])
    for hook in hooks:
        hook.remove()
    use = {}
    for key, ratios in residual.items():
        shares = torch.cat([torch.stack(v).mean(0) for (k, _), v in positive.items() if k == key])
        use[key] = (sum(ratios) / len(ratios), float((shares > LIVE_SHARE).float().mean()))
    return use


def _network_order(block: str) -> tuple[bool, int]:
    """``structure.blocks.*`` before ``detail.blocks.*``, each by index (the order the image meets them)."""
    return block.startswith("detail"), int(block.rsplit(".", 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", action="append", default=[], help="LABEL=FILE (default: the bundled php)")
    parser.add_argument("--images", type=int, default=4, help="first N rainy images of each set")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not PAIRED.is_dir():
        print(f"php_blocks: {PAIRED} not found (needs ../shared/data)", file=sys.stderr)
        return 1
    images = [rain for name in SETS for rain, _ in pair_folders(*find_paired_layout(PAIRED / name))[: args.images]]
    sources = {label: str(file) for label, file in parse_weights(args.weights).items()} or {"php (bundled)": "php"}
    result = {label: block_use(derain.load(source, "cpu").model, images) for label, source in sources.items()}
    blocks = sorted({key for use in result.values() for key in use}, key=_network_order)
    rows = [
        [label, *(f"{use[b][0]:.3f} / {use[b][1]:.2f}" if b in use else "–" for b in blocks)]
        for label, use in result.items()
    ]
    command = "python benchmarks/php_blocks.py" + "".join(f" --weights {w}" for w in args.weights)
    text = (
        f"# php: residual |f| / |x| and live branch channels per PHP block ({args.images} images of "
        f"{' and '.join(SETS)})\n\n" + "\n".join(markdown_table(["weights", *blocks], rows)) + f"\n\n`{command}`\n"
    )
    data = {"environment": describe_hardware(torch.device("cpu")), "sources": sources, "blocks": result}
    write_results(args.out, "php_blocks", data, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
