"""Bad input through the real CLI: one-line errors, non-zero exits, inputs left alone, Ctrl-C.

Each launch pays for importing torch, so the one-error cases share a single subprocess that calls
:func:`derain.cli.main` once per command line (a fresh parser each time, output captured per case).
Ctrl-C needs a process of its own. Covered elsewhere: a corrupt PNG and writing over an input
(``test_run``), ``derain score`` size mismatches (``test_score``), unknown synth presets
(``test_synth_cli``).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, cli_env, smooth_image
from derain.data.io import read_image, write_image
from derain.data.video import VideoWriter

#: Runs each JSON-given argv through ``derain.cli.main`` and prints one JSON result per case.
_DRIVER = """
import contextlib, io, json, sys, traceback
from derain.cli import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors exit from inside parse_args
            code = exc.code
        except BaseException:
            code = None
            err.write(traceback.format_exc())
    results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def run_in_one_process(commands: dict[str, list[object]], cwd: Path) -> dict[str, dict]:
    """``{case: argv}`` -> ``{case: {"code", "stdout", "stderr"}}``, all in one ``python`` process."""
    argvs = [[str(a) for a in argv] for argv in commands.values()]
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(argvs)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(zip(commands, json.loads(proc.stdout.splitlines()[-1]), strict=True))


def assert_one_line_error(result: dict, *fragments: str) -> None:
    """Exit code 2 and exactly one stderr line, ``<prog>: error: ...``, containing every fragment."""
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result["stderr"]
    assert len(lines) == 1 and re.match(r"derain( \w+)?: error: ", lines[0]), result["stderr"]
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def odd_images(tmp_path: Path) -> Path:
    """Images ``derain run`` must skip (named ``bad_*``) and odd ones it must derain faithfully."""
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "bad_text.jpg").write_text("not an image", encoding="utf-8")
    (folder / "bad_empty.png").write_bytes(b"")
    whole = write_image(tmp_path / "whole.png", smooth_image(40, 40)).read_bytes()
    (folder / "bad_truncated.png").write_bytes(whole[: len(whole) // 2])  # valid header, data cut off
    write_image(folder / "bad_too_big.png", smooth_image(50, 50))  # 2500 px > --max-pixels 2000
    write_image(folder / "deep.tif", smooth_image(20, 24, seed=1), bit_depth=16)
    gray = np.round(smooth_image(18, 22, seed=2)[..., 0] * 255).astype(np.uint8)
    Image.fromarray(gray, mode="L").save(folder / "gray.png")
    write_image(folder / "rgba.png", smooth_image(16, 24, seed=3), alpha=np.full((16, 24), 0.25, np.float32))
    write_image(folder / "one.png", smooth_image(1, 1))
    return folder


def test_bad_inputs_fail_cleanly(tmp_path: Path, odd_images: Path, tiny_weights: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "not_a_folder").write_text("keep me", encoding="utf-8")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    (tmp_path / "unknown_key.yaml").write_text("model: {name: baseline}\nbogus: 1\n", encoding="utf-8")
    (tmp_path / "syntax.yaml").write_text("model: [unclosed\n", encoding="utf-8")
    model = ["--weights", tiny_weights, "--device", "cpu"]
    results = run_in_one_process(
        {
            "run odd": ["run", odd_images, "missing.png", "-o", "out", "--max-pixels", "2000", *model],
            "run empty folder": ["run", empty, "-o", "out2", *model],
            "run -o file": ["run", odd_images / "one.png", "-o", "not_a_folder", *model],
            "video broken": ["video", "broken.mp4", "-o", "v.mp4", *model],
            "video missing": ["video", "missing.mp4", "-o", "v.mp4", *model],
            "video empty folder": ["video", empty, "-o", "v.mp4", *model],
            "train missing": ["train", "missing.yaml"],
            "train unknown key": ["train", "unknown_key.yaml"],
            "train bad --set": ["train", REPO / "configs" / "baseline.yaml", "--set", "train.lr=fast"],
            "train yaml syntax": ["train", "syntax.yaml"],
            "export bad format": ["export", "baseline", "--weights", tiny_weights, "-o", "m.onnx", "--format", "zip"],
            "bench missing set": ["bench", "--weights", f"tiny={tiny_weights}", "--sets", "nowhere", "--out", "r"],
        },
        cwd=tmp_path,
    )

    odd = results.pop("run odd")
    assert odd["code"] == 1 and "Traceback" not in odd["stderr"], odd["stderr"]
    skipped = re.findall(r"derain: skipped (.*)", odd["stderr"])
    bad = ["missing.png", "bad_text.jpg", "bad_empty.png", "bad_truncated.png", "bad_too_big.png"]
    assert sorted(bad) == sorted(name for line in skipped for name in bad if name in line)
    assert any("max_pixels=2000" in line for line in skipped)
    assert "4 image(s) derained" in odd["stdout"] and "5 failed" in odd["stdout"]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["deep.tif", "gray.png", "one.png", "rgba.png"]
    deep, rgba = read_image(out / "deep.tif"), read_image(out / "rgba.png")
    assert deep.bit_depth == 16 and deep.rgb.shape == (20, 24, 3)
    assert rgba.alpha is not None and np.allclose(rgba.alpha, 0.25, atol=1 / 255)
    assert Image.open(out / "gray.png").mode == "L" and Image.open(out / "gray.png").size == (22, 18)
    assert read_image(out / "one.png").rgb.shape == (1, 1, 3)

    expected = {
        "run empty folder": ["no images found"],
        "run -o file": ["not_a_folder", "not a folder"],
        "video broken": ["broken.mp4", "cannot open video"],
        "video missing": ["missing.mp4", "no such file"],
        "video empty folder": ["holds no image frames"],
        "train missing": ["missing.yaml", "cannot read config"],
        "train unknown key": ["bogus: unknown key"],
        "train bad --set": ["train.lr", "'fast'"],
        "train yaml syntax": ["syntax.yaml", "not valid YAML (line 2, column 1"],
        "export bad format": ["--format", "'zip'", "onnx"],
        "bench missing set": ["nowhere: no such folder"],  # before the slow cost runs: no log lines
    }
    for case, fragments in expected.items():
        assert_one_line_error(results[case], *fragments)
    assert (tmp_path / "not_a_folder").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "v.mp4").exists() and not (tmp_path / "m.onnx").exists()


def test_ctrl_c_exits_130_without_traceback(tmp_path: Path, tiny_weights: Path) -> None:
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, 10) as writer:
        for i in range(200):
            writer.write(smooth_image(32, 48, seed=i % 5))
    out = tmp_path / "frames"
    cmd = [sys.executable, "-m", "derain", "video", clip, "-o", out, "--weights", tiny_weights, "--device", "cpu"]
    proc = subprocess.Popen(  # SIGINT back to default: an xdist worker's children inherit it ignored
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".frames.*.tmp/000001.png")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the frame folder fills under a temp name (atomic output)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "derain: interrupted" and "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".frames*"))  # an interrupted folder leaves nothing
