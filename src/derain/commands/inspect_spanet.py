"""``derain inspect spanet IMAGE -o DIR``: the four SAM attention maps and the direction weights.

Writes ``attention_1.png`` .. ``attention_4.png`` (the maps gating blocks 4-6, 7-9, 10-12, 13-15,
drawn on one absolute scale, 0 to 1, over the greyed image), ``directions_K.png`` for each SAM call
``K`` (a 2 x 2 grid: up, right / down, left weight maps, also 0 to 1), ``direction_weights.json``
(their mean per call and direction), ``rain.png`` and ``background.png``. With
``release_noop_direction_weights`` the direction branch is not run, so there are no direction files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

    from derain.models.base import ModelOutput
    from derain.models.spanet import SpaNet

__all__ = ["write_spanet"]


def write_spanet(
    model: SpaNet, x: torch.Tensor, rgb: np.ndarray, out_dir: Path, *, overwrite: bool, image: Path
) -> str:
    """Run ``model`` on ``x`` with a hook on the direction branch and write the files; returns a summary line.

    Every file is checked before the first is written (:func:`derain.outputs.check_new_file`): never
    the input image, nothing replaced without ``overwrite``.
    """
    import numpy as np
    import torch

    from derain.atomic import atomic_path
    from derain.commands.inspect import heat_overlay
    from derain.data.arrays import to_hwc
    from derain.data.io import write_image
    from derain.layers.irnn import DIRECTIONS
    from derain.outputs import check_new_file

    captured: list[torch.Tensor] = []
    hook = model.sam.direction.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
    try:
        with torch.inference_mode():
            out: ModelOutput = model(x)
    finally:
        hook.remove()
    names = [
        *(f"attention_{k}.png" for k in range(1, 5)),
        *(f"directions_{k}.png" for k in range(1, len(captured) + 1)),
    ]
    for name in [*names, "direction_weights.json", "rain.png", "background.png"]:
        check_new_file(out_dir / name, overwrite=overwrite, inputs=(image,))
    out_dir.mkdir(parents=True, exist_ok=True)
    attention = torch.cat(out.attention, dim=1)[0].numpy()
    for k, amap in enumerate(attention, start=1):
        write_image(out_dir / f"attention_{k}.png", heat_overlay(rgb, amap))
    means = {}
    for k, weights in enumerate(captured, start=1):
        w = weights[0].numpy()  # (4, H, W)
        grid = np.concatenate(
            [np.concatenate([heat_overlay(rgb, w[i]), heat_overlay(rgb, w[i + 1])], 1) for i in (0, 2)]
        )
        write_image(out_dir / f"directions_{k}.png", grid)
        means[f"sam_call_{k}"] = {name: round(float(w[i].mean()), 4) for i, name in enumerate(DIRECTIONS)}
    if means:
        with atomic_path(out_dir / "direction_weights.json") as tmp:
            tmp.write_text(json.dumps(means, indent=2) + "\n")
    write_image(out_dir / "rain.png", to_hwc(out.rain[0]).clip(0.0, 1.0))
    write_image(out_dir / "background.png", to_hwc(out.background[0]))
    span = ", ".join(f"A{k} {m.mean():.3f}" for k, m in enumerate(attention, start=1))
    return f"wrote 4 attention maps (mean {span}) and {len(captured)} direction-weight grids to {out_dir}"
