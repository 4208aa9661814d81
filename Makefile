# The project's vocabulary. Every target creates or refreshes .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DAGSTER_HOME := $(CURDIR)/.dagster_home
HOST ?= 127.0.0.1
PORT ?= 3000
# The committed sample covers 2026-11-01..14; freshness and certificate expiry are judged as of the
# morning after it, so the demo's certificates mean something. `make dev AS_OF=` uses the wall clock.
AS_OF ?= 2026-11-15T06:00:00Z

.PHONY: setup browser dev run test test-fast check lint bench sample clean

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
	DAGSTER_HOME=$(DAGSTER_HOME) DTE_AS_OF=$(AS_OF) $(BIN)/dagster dev -w workspace.yaml -h $(HOST) -p $(PORT)

## run: materialize every source partition headless and print the summary
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) DTE_AS_OF=$(AS_OF) $(BIN)/dte run

## browser: Debian's chromium for the real-UI test (tests/e2e/test_dagster_dev.py); never a downloaded build
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && apt-get install -y --no-install-recommends chromium; \
	else \
		echo "chromium is missing; install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium"; \
	fi

## test: set up and run every test, the slow ones included
test: $(STAMP) browser
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
