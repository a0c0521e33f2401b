"""The paper's Table IV ablation of `php` (paper 004): pyramid structure and pooling, at one equal budget.

Every variant trains ``configs/php.yaml`` from scratch for the same short budget, with each seed,
and is scored in one ``derain bench`` run on held-out synthetic pairs and every development paired
set (:mod:`_ablation`). Variants are the model's Table IV switches:

* ``php`` -- the paper's network (parallel pyramids aggregated top-down and re-weighted, stacked
  hierarchically; contrast-aware pooling);
* ``parallel_only`` / ``hierarchical_only`` / ``plain_concat`` -- "Parallel Only", "Hierarchical
  Only", "PHP-concatenation";
* ``no_pooling`` / ``max_pooling`` -- "w/o. contrast-aware pooling", "Contrast-aware pooling -> Max-pooling".

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/php_ablation.py --steps 1000 --seeds 0 1 --jobs 2
    -> runs/php_ablation/<variant>_s<seed>/, benchmarks/results/php_ablation/{report.md,report.json,summary.md}
"""

from __future__ import annotations

import sys

from _ablation import REPO, Ablation, main

ABLATION = Ablation(
    recipe=REPO / "configs" / "php.yaml",
    weights_name="php.safetensors",
    variants={
        "php": ["model.config.pyramid=php", "model.config.pooling=contrast"],
        "parallel_only": ["model.config.pyramid=parallel", "model.config.pooling=contrast"],
        "hierarchical_only": ["model.config.pyramid=hierarchical", "model.config.pooling=contrast"],
        "plain_concat": ["model.config.pyramid=concat", "model.config.pooling=contrast"],
        "no_pooling": ["model.config.pyramid=php", "model.config.pooling=none"],
        "max_pooling": ["model.config.pyramid=php", "model.config.pooling=max"],
    },
)


if __name__ == "__main__":
    sys.exit(main(ABLATION, "php Table IV ablation", steps=1000, seeds=[0, 1], description=__doc__.splitlines()[0]))
