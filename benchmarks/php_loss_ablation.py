"""The paper's Table III loss ablation of `php` (paper 004), and its low-pass kernel, at one equal budget.

Every variant trains ``configs/php.yaml`` from scratch for the same short budget, with each seed,
and is scored in one ``derain bench`` run on held-out synthetic pairs and every development paired
set (:mod:`_ablation`). Table III adds the loss terms one by one; derain's photo pools have no label
maps, so L_seg cannot join and the rows are the two without it:

* ``acc`` -- L_acc alone (both sub-networks; lambda_col = 0);
* ``acc_col`` -- L_acc + L_col, the recipe (lambda_col = 0.1, the paper's weight);

and, at the recipe's loss, the Gaussian kernel of the low-pass target X_f^gt, which the paper
says it tried at 3-9 px without giving the winner: ``acc_col_k3`` and ``acc_col_k9`` beside the
recipe's 5.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/php_loss_ablation.py --steps 1000 --seeds 0 1 --jobs 2
    -> runs/php_loss_ablation/<variant>_s<seed>/,
       benchmarks/results/php_loss_ablation/{report.md,report.json,summary.md}
"""

from __future__ import annotations

import sys

from _ablation import REPO, Ablation, main

_LOSS = "objective.options"
ABLATION = Ablation(
    recipe=REPO / "configs" / "php.yaml",
    weights_name="php.safetensors",
    variants={
        "acc": [f"{_LOSS}.lambda_col=0", f"{_LOSS}.lowpass_kernel=5"],
        "acc_col": [f"{_LOSS}.lambda_col=0.1", f"{_LOSS}.lowpass_kernel=5"],
        "acc_col_k3": [f"{_LOSS}.lambda_col=0.1", f"{_LOSS}.lowpass_kernel=3"],
        "acc_col_k9": [f"{_LOSS}.lambda_col=0.1", f"{_LOSS}.lowpass_kernel=9"],
    },
)


if __name__ == "__main__":
    sys.exit(
        main(
            ABLATION,
            "php Table III loss ablation",
            steps=1000,
            seeds=[0, 1],
            description=__doc__.splitlines()[0],
            name="php_loss",
        )
    )
