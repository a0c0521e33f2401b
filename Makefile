# Two entry points: `make demo` (the main job on a bundled example) and `make test`.
# Both create/refresh .venv idempotently; torch is installed first so pip never pulls CUDA wheels.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint format clean val-data heldout-data bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/derain demo -o demo_out

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --timeout 600

# Held-out validation pairs for `derain train` (rendered from Kodak24, which every recipe excludes from training).
VAL_DIR := runs/val/synth_kodak
val-data: $(STAMP)
	test -d $(VAL_DIR) || $(BIN)/derain synth pairs --clean ../shared/data/clean/Kodak24 --out $(VAL_DIR) \
		--count 24 --preset medium --seed 1 --size 384

# The held-out sets behind the method pages' held-out figures (needs ../shared/data; about a minute).
heldout-data: $(STAMP)
	$(BIN)/python scripts/heldout_sets.py --out runs/val

# README's quality and speed tables (needs ../shared/data; minutes on a CPU).
bench: $(STAMP)
	$(BIN)/python benchmarks/quality.py --update-manifest
	$(BIN)/python benchmarks/speed.py

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks scripts README.md docs
	$(BIN)/ruff check src tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts README.md docs
	$(BIN)/ruff check --fix src tests benchmarks scripts

clean:
	rm -rf $(VENV) demo_out .pytest_cache
