"""Issue #10, defect 7 (training): run-folder and config mistakes are one line naming the key or file."""

from __future__ import annotations

from pathlib import Path

from trainkit import save_yaml, tiny_config, write_pairs

from conftest import one_line_error, run_cli


def test_config_mistakes_name_the_key(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    config = save_yaml(tiny_config(pairs, tmp_path / "run"), tmp_path / "c.yaml")
    one_line_error(run_cli("train", config, "--set", "train.lr=.nan"), "train.lr", "finite")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(config.read_bytes() + "# caf\xe9\n".encode("latin-1"))
    one_line_error(run_cli("train", latin1), str(latin1), "UTF-8")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    one_line_error(run_cli("train", config, "--set", f"output.dir={blocker}"), "output.dir", "is a file")
    one_line_error(run_cli("train", config, "--set", f"output.dir={blocker}/run"), "output.dir", "is a file")
    export = f"output.export.path={blocker}/w.safetensors"
    one_line_error(run_cli("train", config, "--set", export), "output.export.path", str(blocker))
    assert blocker.read_text() == "mine" and not (tmp_path / "run").exists()


def test_truncated_latest_checkpoint_falls_back_and_a_renamed_model_is_refused(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "pairs", 4)
    raw = tiny_config(pairs, tmp_path / "run", steps=4, ckpt_every=2, keep_last=3)
    raw["val"] = None
    config = save_yaml(raw, tmp_path / "c.yaml")
    first = run_cli("train", config, "--set", "train.steps=4")
    assert first.returncode == 0, first.stderr
    latest = tmp_path / "run" / "checkpoints" / "step_000004.pt"
    latest.write_bytes(latest.read_bytes()[:1000])  # killed mid-copy
    again = run_cli("train", config, "--set", "train.steps=6", "--resume")
    assert again.returncode == 0, again.stderr
    assert "step_000004.pt: unreadable checkpoint" in again.stderr and "resumed" in again.stderr
    assert "from step 2" in again.stderr and "Traceback" not in again.stderr
    renamed = run_cli("train", config, "--set", "train.steps=8", "--set", "model.name=memory",
                      "--set", "model.config={}", "--resume")  # fmt: skip
    one_line_error(renamed, "model.name", "'baseline'", "'memory'")
