"""derain.checkpoint: weights files round-trip, strict fitting, manifest read-modify-write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import TINY, cli_env
from derain.checkpoint import (
    apply_weights,
    build_from_file,
    canonical_safetensors,
    load_weights_file,
    read_manifest,
    save_weights,
    update_manifest,
)
from derain.errors import ModelError
from derain.models import build_model


def test_round_trip_keeps_name_config_and_tensors(tmp_path):
    model = build_model("baseline", TINY)
    path = save_weights(model, tmp_path / "w.safetensors", model_name="baseline", config=TINY)
    name, config, state = load_weights_file(path)
    assert (name, config) == ("baseline", TINY)  # JSON lists come back as tuples
    assert state.keys() == model.state_dict().keys()
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert not list(tmp_path.glob(".*tmp*")), "atomic write left a temp file"


def test_build_from_file_rebuilds_the_same_model(tmp_path):
    model = build_model("baseline", TINY)
    path = save_weights(model, tmp_path / "w.safetensors", model_name="baseline", config=TINY)
    name, rebuilt = build_from_file(path)
    x = torch.rand(1, 3, 16, 16)
    assert name == "baseline"
    assert torch.equal(model(x).background, rebuilt(x).background)


def test_not_a_safetensors_file(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"not safetensors at all")
    with pytest.raises(ModelError, match=r"junk\.safetensors"):
        load_weights_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such weights file"):
        load_weights_file(tmp_path / "none.safetensors")


def test_shape_mismatch_names_the_file(tmp_path):
    path = save_weights(build_model("baseline", TINY), tmp_path / "w.safetensors", model_name="baseline", config=TINY)
    _, _, state = load_weights_file(path)
    wider = build_model("baseline", {"channels": (6, 8), "bottleneck_blocks": 1})
    with pytest.raises(ModelError, match=r"w\.safetensors: .*shape mismatch"):
        apply_weights(wider, state, path)


def test_missing_and_unexpected_keys(tmp_path):
    path = save_weights(build_model("baseline", TINY), tmp_path / "w.safetensors", model_name="baseline", config=TINY)
    _, _, state = load_weights_file(path)
    deeper = build_model("baseline", {"channels": (4, 8), "bottleneck_blocks": 2})
    with pytest.raises(ModelError, match="missing"):
        apply_weights(deeper, state, path)
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(ModelError, match=r"unexpected extra\.weight"):
        apply_weights(build_model("baseline", TINY), state, path)


def test_unknown_config_key_in_metadata(tmp_path):
    path = save_weights(
        build_model("baseline", TINY), tmp_path / "w.safetensors", model_name="baseline", config={"bogus": 1}
    )
    with pytest.raises(ModelError, match=r"w\.safetensors.*bogus"):
        build_from_file(path)


def test_manifest_update_keeps_other_entries(tmp_path):
    path = tmp_path / "manifest.json"
    assert read_manifest(path) == {}
    update_manifest("a", {"file": "a.safetensors"}, path)
    update_manifest("b", {"file": "b.safetensors", "dev_scores": {}}, path)
    update_manifest("a", {"file": "a2.safetensors"}, path)
    assert read_manifest(path) == {"a": {"file": "a2.safetensors"}, "b": {"file": "b.safetensors", "dev_scores": {}}}
    assert json.loads(path.read_text())["b"]["file"] == "b.safetensors"


def test_bad_manifest(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("[1, 2")
    with pytest.raises(ModelError, match=r"manifest\.json"):
        read_manifest(path)


def test_checkpoint_and_atomic_writes_do_not_pull_in_media_or_api_layers():
    """Weights and atomic writes must stay light: no PyAV/OpenCV, and no upward import of the API."""
    code = (
        "import sys, derain.checkpoint, derain.atomic, derain.train.runlog\n"
        "print(' '.join(m for m in ('av', 'cv2', 'derain.api', 'derain.data.io') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


_SAVE_TINY = (
    "import sys, torch; from conftest import TINY; from derain.checkpoint import save_weights;"
    "from derain.models import build_model; torch.manual_seed(0);"
    "save_weights(build_model('baseline', TINY), sys.argv[1], model_name='baseline', config=TINY)"
)


def _header(path) -> list[tuple[str, object]]:
    blob = path.read_bytes()
    return json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")], object_pairs_hook=list)


def test_the_same_weights_saved_in_separate_processes_are_byte_identical(tmp_path):
    """safetensors orders ``__metadata__`` at random per process; save_weights must not (manifest checksums)."""
    paths = [tmp_path / f"w{i}.safetensors" for i in range(4)]
    for path in paths:
        env = {**cli_env(), "PYTHONPATH": str(Path(__file__).parent)}
        subprocess.run([sys.executable, "-c", _SAVE_TINY, str(path)], check=True, env=env, cwd=tmp_path)
    assert len({p.read_bytes() for p in paths}) == 1
    metadata = dict(_header(paths[0]))["__metadata__"]
    assert [key for key, _ in metadata] == sorted(key for key, _ in metadata)


def test_canonical_header_keeps_the_tensors(tmp_path):
    from safetensors.torch import load, save

    state = {"b": torch.arange(6.0).reshape(2, 3), "a": torch.ones(5, dtype=torch.float16)}
    blob = save(state, metadata={"z": "1", "a": "2"})
    canonical = canonical_safetensors(blob)
    assert canonical_safetensors(canonical) == canonical  # already canonical: unchanged
    assert int.from_bytes(canonical[:8], "little") % 8 == 0
    loaded = load(canonical)
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
