# One command sets everything up and runs the main job; one runs the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint format types pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

## run: set up, check the demo workspace, score it and evaluate its contingency plans
run: $(STAMP)
	$(BIN)/riskapp validate demo scenarios
	$(BIN)/riskapp score demo
	$(BIN)/riskapp plans demo

## test: set up, then format check, lint, type check and the whole test suite
test: $(STAMP) lint types pytest

check: test

lint: $(STAMP)
	$(BIN)/ruff format --check riskapp tests benchmarks
	$(BIN)/ruff check riskapp tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format riskapp tests benchmarks
	$(BIN)/ruff check --fix riskapp tests benchmarks

types: $(STAMP)
	$(BIN)/mypy riskapp

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
