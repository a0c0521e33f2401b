"""derain.cli: ``--help`` runs, and building the parser imports no heavy module (start-up speed)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import cli_env, run_cli
from derain.cli import COMMANDS

#: What building the parser must not import: each costs from a tenth of a second (cv2) to seconds (torch).
HEAVY = ("torch", "cv2", "av", "skimage", "matplotlib", "derain.models", "derain.train", "derain.data.io")

_CHECK = """
import argparse, importlib, json, sys
import derain.cli

loaded = {"after import derain.cli": sorted(m for m in HEAVY if m in sys.modules)}
subparsers = argparse.ArgumentParser().add_subparsers()
for name in COMMANDS:
    importlib.import_module(f"derain.commands.{name}").add_parser(subparsers)
    loaded[name] = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps(loaded))
"""


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("COMMAND ...", 1)[1]
    first_words = {line.split()[0] for line in listed.splitlines() if line.startswith("    ") and line.split()}
    assert {name.replace("_", "-") for name in COMMANDS} <= first_words  # module pseudo_gt is command pseudo-gt


def test_parser_construction_imports_nothing_heavy() -> None:
    code = f"HEAVY = {HEAVY!r}\nCOMMANDS = {list(COMMANDS)!r}\n{_CHECK}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {name: [] for name in ["after import derain.cli", *COMMANDS]}
