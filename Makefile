# One command sets everything up and runs the main job; one runs the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint format types pytest bench clean summary wheel

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Debian packages: Chromium draws report charts (kaleido) and runs the browser tests (Playwright
# never downloads its own browser here); poppler's pdftotext/pdftoppm read PDF reports back.
CHROMIUM := /usr/bin/chromium
POPPLER  := /usr/bin/pdftotext
$(CHROMIUM) $(POPPLER):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils

## run: set up and open the dashboard on the bundled demo workspace (http://localhost:8501)
run: $(STAMP) $(CHROMIUM)
	$(BIN)/riskapp serve demo

## test: set up, then format check, lint, type check and the whole test suite
test: $(STAMP) $(CHROMIUM) $(POPPLER) lint types pytest

check: test

lint: $(STAMP)
	$(BIN)/ruff format --check riskapp tests benchmarks tools
	$(BIN)/ruff check riskapp tests benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format riskapp tests benchmarks tools
	$(BIN)/ruff check --fix riskapp tests benchmarks tools

types: $(STAMP)
	$(BIN)/mypy riskapp

pytest: $(STAMP)
	$(BIN)/pytest

## summary: the demo assessment on the terminal, no browser
summary: $(STAMP)
	$(BIN)/riskapp validate demo scenarios
	$(BIN)/riskapp score demo
	$(BIN)/riskapp plans demo

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_dashboard.py
	$(BIN)/python benchmarks/bench_pages.py --links 14000
	$(BIN)/python benchmarks/bench_baseline.py
	$(BIN)/python benchmarks/bench_reports.py
	$(BIN)/python benchmarks/bench_sensitivity.py
	$(BIN)/python benchmarks/bench_risk_page.py --repeat 3
	$(BIN)/python benchmarks/bench_montecarlo.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_startup.py

## wheel: build dist/riskapp-*.whl (demo, scenarios, methods, reference data, templates, static
## files and Streamlit settings inside); `pip install dist/riskapp-*.whl` installs the product
wheel: $(STAMP)
	rm -rf build  # setuptools would carry files of an earlier build into the wheel
	$(BIN)/python -m pip wheel --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .hypothesis
