"""Ablation of the `memory` method (paper 001, Tables IV-V): with/without the memory, with/without BSW.

Trains each variant with the bundled recipe (`configs/memory.yaml`) for the same, short budget, then
scores all of them with `derain bench` on held-out synthetic pairs (`runs/val/synth_kodak`, rendered
from Kodak24, which training excludes) and on every development paired set. Equal budgets make the
variants comparable with each other; they are shorter than the bundled run, so compare rows within
this table only.

Each variant is trained with every seed in ``--seeds`` (model init, data order and rain all
follow the seed), so the table shows run-to-run noise beside the differences between variants:
``summary.md`` gives, per set, the mean over seeds and the half-range (max - min) / 2.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/memory_ablation.py --steps 1200 --seeds 0 1
    -> runs/memory_ablation/<variant>_s<seed>/ (training runs),
       benchmarks/results/memory_ablation/{report.md,report.json,summary.md}

On a GPU machine the runs can go side by side (``--jobs 6``), with the data paths moved by
``--set`` (given to every training run), other development sets (``--bench-root``) and no
synthetic validation set (``--val none``).
"""

from __future__ import annotations

import sys

from _ablation import REPO, Ablation, main

#: variant -> `--set` overrides on top of configs/memory.yaml (explicit, so no row depends on the recipe's
#: defaults; until BSW was switched off in the recipe, ``memory_bsw`` was called ``memory_full``).
ABLATION = Ablation(
    recipe=REPO / "configs" / "memory.yaml",
    weights_name="memory.safetensors",
    variants={
        "memory_bsw": ["objective.options.lambda_w=0.01"],
        "memory_no_bsw": ["objective.options.lambda_w=0"],
        "encdec_no_memory_no_bsw": ["model.config.use_memory=false", "objective.options.lambda_w=0"],
    },
)


if __name__ == "__main__":
    sys.exit(main(ABLATION, "memory ablation", steps=300, seeds=[0, 1], description=__doc__.splitlines()[0]))
