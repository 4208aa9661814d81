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

.PHONY: setup lock browser dev run test test-fast test-lowest check lint bench sample clean

# uv installs exactly what uv.lock says; pip only bootstraps uv itself (same version as the lock's).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
LOWEST := .venv-lowest
LOWEST_REQUIREMENTS := tests/lowest/requirements.txt
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(BIN)/python --quiet
	touch $(STAMP)

setup: $(STAMP)

## lock: re-resolve uv.lock, and the lowest versions pyproject allows, after a change to it (commit both)
lock: | $(UV)
	$(UV) lock
	$(UV) pip compile pyproject.toml --group dev --resolution lowest-direct --python-version 3.11 \
		--generate-hashes --no-header --quiet -o $(LOWEST_REQUIREMENTS)

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

## test: set up and run every test: the default ones, the slow ones, and the default ones again at the
## lowest dependency versions pyproject.toml allows
test: $(STAMP) browser
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -m slow || [ $$? -eq 5 ]
	$(MAKE) test-lowest

## test-lowest: the default tests in .venv-lowest, installed at the lowest direct versions (the lower
## bounds in pyproject.toml are only honest if the suite passes there)
test-lowest: | $(UV)
	$(UV) venv --quiet --allow-existing --python $(BIN)/python $(LOWEST)
	VIRTUAL_ENV=$(CURDIR)/$(LOWEST) $(UV) pip sync --quiet $(LOWEST_REQUIREMENTS)
	VIRTUAL_ENV=$(CURDIR)/$(LOWEST) $(UV) pip install --quiet --no-deps -e .
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider

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
	rm -rf $(VENV) $(LOWEST) .dagster_home artifacts data/*.duckdb* data/*.lock benchmarks/.data
