"""``derain models`` and ``derain demo`` through the real CLI."""

from __future__ import annotations

from conftest import run_cli
from derain.api import DEFAULT_MODEL, bundled_weights
from derain.checkpoint import build_from_file, file_sha256, read_manifest
from derain.commands.models import _human
from derain.data.io import read_image
from derain.models import MODELS

PANEL = 500  # the bundled photo is 500x500


def test_models_prints_the_manifest_for_every_registered_model():
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    heads = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert sorted(heads) == MODELS.names()
    manifest = read_manifest()
    for name, entry in manifest.items():
        start = lines.index(next(line for line in lines if line.split()[0] == name))
        block = "\n".join(lines[start : start + 6])
        assert " k params" in block or " M params" in block
        params = sum(p.numel() for p in build_from_file(bundled_weights(name))[1].parameters())
        assert lines[start].startswith(f"{name}  {_human(params)} params"), name  # the bundled file's own size
        assert f"sha256 {entry['sha256']}" in block and entry["recipe"] in block
        assert entry["data_licence"] in block and f"{entry['dev_scores']['rain12']['psnr_y']:.2f}" in block
    assert any("none bundled" in line for line in lines) == (set(MODELS.names()) > set(manifest))


def test_bundled_weights_match_their_manifest_checksums():
    for name, entry in read_manifest().items():
        assert file_sha256(bundled_weights(name)) == entry["sha256"], name


def test_demo_writes_a_side_by_side_png(tmp_path):
    result = run_cli("demo", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    panels = 3 if bundled_weights(DEFAULT_MODEL) else 2
    assert read_image(tmp_path / "demo.png").rgb.shape[1] == panels * PANEL
    assert "rainy input: PSNR-Y" in result.stdout
    assert ("no bundled weights" in result.stdout) == (panels == 2)


def test_demo_with_user_weights_shows_the_derained_panel(tmp_path, tiny_weights):
    result = run_cli("demo", "-o", tmp_path / "out", "--weights", tiny_weights)
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "out" / "demo.png").rgb.shape[1] == 3 * PANEL
    assert "derained (baseline): PSNR-Y" in result.stdout
