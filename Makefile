# The project's vocabulary. Every target creates or refreshes .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME := $(CURDIR)/.dagster_home
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: setup dev run test test-fast check lint bench sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: resources/dagster_dev.yaml
	mkdir -p $(DAGSTER_HOME)
	cp -n resources/dagster_dev.yaml $@ || true

## dev: set up and start the Dagster UI on the sample data (http://127.0.0.1:3000)
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml -h $(HOST) -p $(PORT)

## run: materialize every source partition headless and print the summary
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dte run

## test: set up and run every test, the slow ones included
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -m slow || [ $$? -eq 5 ]

## test-fast: the default (not slow) tests only
test-fast: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## check: lint and type checks plus every test
check: lint test

## bench: ingest (1M, 10M) and indicators against plain DuckDB; golden records at 10k-1M; profiling
bench: $(STAMP)
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.golden
	$(BIN)/python -m benchmarks.indicators
	$(BIN)/python -m benchmarks.profiling

## sample: regenerate the committed sample landing data
sample: $(STAMP)
	$(BIN)/dte demo generate --out data

clean:
	rm -rf $(VENV) .dagster_home artifacts data/*.duckdb* data/*.lock benchmarks/.data
