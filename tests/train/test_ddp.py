"""torchrun: two CPU processes over gloo train a tiny model; only rank 0 writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from trainkit import save_yaml, tiny_config, write_pairs

from conftest import cli_env
from derain.train.runlog import read_log

_TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _torchrun(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_TORCHRUN, "-m", "derain", "train", str(cfg)], capture_output=True, text=True, env=cli_env(), timeout=300
    )


def test_torchrun_two_gloo_processes(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 8)
    run = tmp_path / "run"
    cfg = save_yaml(tiny_config(pairs, run, steps=4, ckpt_every=2), tmp_path / "c.yaml")
    proc = _torchrun(cfg)
    if proc.returncode != 0 and "terminate called without an active exception" in proc.stderr:
        # Seen once in ~10 runs, only with the 2 cores oversubscribed (training jobs + pytest-xdist): a gloo
        # worker aborts in C++ with no Python error. Retried once from scratch; a second failure fails the test.
        shutil.rmtree(run)
        proc = _torchrun(cfg)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("exported ") == 1  # rank 0 only
    records = read_log(run / "log.jsonl")
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4]  # one writer, no duplicates
    assert [r["step"] for r in records if "val" in r] == [3, 4]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "step_000002.pt", "step_000004.pt"]
    assert json.loads((tmp_path / "manifest.json").read_text())["tiny"]["hardware"]["world_size"] == 2
