# Every target sets up its own .venv on a fresh clone (python3 -m venv + pip install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: help setup backtest test lint typecheck pytest bench clean api

help:
	@echo "make backtest [ARGS='--days 21 --seed 7 --start 2015-12-23 --storage storage']"
	@echo "make test      ruff + pyright (LEAN stubs) + pytest"
	@echo "make bench     every bench/bench_*.py: harness, on_data, Greeks, audit, pre-trade gateway"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[api,dev,oracle]'
	touch $(STAMP)

setup: $(STAMP)

backtest: $(STAMP)
	$(PY) -m harness.runner $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/pyright

pytest: $(STAMP)
	$(PY) -m pytest

test: lint typecheck pytest

# The sidecar API on 127.0.0.1 (API_PORT, default 8000); needs TRADING_API_TOKEN (>= 32 chars).
api: $(STAMP)
	$(PY) -m api --host 127.0.0.1

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) storage backtests .pytest_cache .ruff_cache .benchmarks
