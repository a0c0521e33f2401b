"""``scripts/heldout_sets.py``: held-out sets rendered, merged under prefixes, byte-identical on a rerun."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import cli_env, load_script

from derain.data.synth.params import MIXTURE_NAMES, PRESETS

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "heldout_sets.py"


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch):
    """The script with one tiny set: two prefixed light pairs and one unprefixed pair, 48 px."""
    module = load_script(SCRIPT, monkeypatch)
    part = module.Part
    tiny = (part("x", "skimage", "light", 1, 2, size=48), part("", "skimage", "rain100l-like", 2, 1, size=48))
    monkeypatch.setattr(module, "HELDOUT", {"tiny": tiny})
    return module


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_parts_are_merged_under_their_prefixes(script, tmp_path: Path) -> None:
    assert script.main(["--sets", "tiny", "--out", str(tmp_path)]) == 0
    files = _files(tmp_path / "tiny")
    names = ["x_0000_astronaut.png", "x_0001_chelsea.png", "0000_astronaut.png"]
    for kind in ("rain", "clean"):
        assert sorted(f for f in files if f.startswith(f"{kind}/")) == sorted(f"{kind}/{n}" for n in names)
    assert not [f for f in files if ".part_" in f or "contact_sheet" in f]  # the staging folders are gone
    assert all(files[f"rain/{n}"] != files[f"clean/{n}"] for n in names)  # rain was drawn on every pair


def test_a_rerun_is_byte_identical_and_an_existing_set_is_kept(script, tmp_path: Path, capsys) -> None:
    assert script.main(["--sets", "tiny", "--out", str(tmp_path / "a")]) == 0
    assert script.main(["--sets", "tiny", "--out", str(tmp_path / "b")]) == 0
    assert _files(tmp_path / "a" / "tiny") == _files(tmp_path / "b" / "tiny")
    before = _files(tmp_path / "a" / "tiny")
    (tmp_path / "a" / "tiny" / "rain" / "0000_astronaut.png").write_bytes(b"edited by hand")
    assert script.main(["--sets", "tiny", "--out", str(tmp_path / "a")]) == 0
    assert "kept" in capsys.readouterr().out  # an existing set is not rebuilt
    assert (tmp_path / "a" / "tiny" / "rain" / "0000_astronaut.png").read_bytes() == b"edited by hand"
    assert script.main(["--sets", "tiny", "--out", str(tmp_path / "a"), "--overwrite"]) == 0
    assert _files(tmp_path / "a" / "tiny") == before


def test_missing_photos_fail_with_one_line_and_write_nothing(script, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(script, "HELDOUT", {"k": (script.Part("k", "kodak", "light", 1, 1, size=48),)})
    assert script.main(["--sets", "k", "--out", str(tmp_path), "--kodak", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and "held-out set k" in err[0]
    assert not (tmp_path / "k").exists()


def test_unknown_set_name_is_a_one_line_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sets", "kodak_hard,nonesuch", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
    )
    assert done.returncode == 2 and "nonesuch" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # refused before rendering anything


def test_the_real_table_names_known_rain_and_unique_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_script(SCRIPT, monkeypatch)
    for name, parts in module.HELDOUT.items():
        assert all(p.preset in PRESETS or p.preset in MIXTURE_NAMES for p in parts), name
        assert all(p.source in ("kodak", "skimage") for p in parts), name
        assert len({p.prefix for p in parts}) == len(parts), name
