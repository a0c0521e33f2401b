"""Exact resume: SIGKILL a real ``derain train`` after its first checkpoint, resume, compare losses."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from trainkit import save_yaml, tiny_config, write_pairs

from conftest import cli_env, run_cli
from derain.train.runlog import read_log

STEPS = 60


def _losses(run: Path) -> dict[int, tuple[float, float]]:
    return {r["step"]: (r["loss"], r["lr"]) for r in read_log(run / "log.jsonl") if "loss" in r}


def _kill_after_first_checkpoint(cfg: Path, run: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "derain", "train", str(cfg)],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = run / "checkpoints" / "step_000005.pt"
    deadline = time.monotonic() + 120
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_resume_after_sigkill_repeats_the_uninterrupted_losses(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 10, size=48)
    options = {"steps": STEPS, "ckpt_every": 5, "keep_last": 100, "schedule": "cosine", "seed": 3, "batch_size": 3}
    straight = tmp_path / "a" / "run"
    straight.parent.mkdir()
    raw = tiny_config(pairs, straight, **options)
    raw["data"]["options"]["crop"] = 40
    raw["val"] = None
    assert run_cli("train", str(save_yaml(raw, tmp_path / "a.yaml"))).returncode == 0

    killed = tmp_path / "b" / "run"
    killed.parent.mkdir()
    raw["output"] = tiny_config(pairs, killed)["output"]
    cfg = save_yaml(raw, tmp_path / "b.yaml")
    _kill_after_first_checkpoint(cfg, killed)
    before = _losses(killed)
    assert 5 <= max(before) < STEPS, "the run must die mid-way (after its first checkpoint, before the end)"

    proc = run_cli("train", str(cfg), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "resumed" in proc.stderr
    records = [r["step"] for r in read_log(killed / "log.jsonl") if "loss" in r]
    assert records == list(range(1, STEPS + 1))  # steps past the checkpoint were dropped, none doubled
    assert _losses(killed) == _losses(straight)  # bit-exact losses and learning rates


def test_resume_without_checkpoint_starts_fresh(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    raw = tiny_config(pairs, tmp_path / "run", steps=2)
    proc = run_cli("train", str(save_yaml(raw, tmp_path / "c.yaml")), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "starting a fresh run" in proc.stderr
    assert sorted(_losses(tmp_path / "run")) == [1, 2]
