# Every target sets up its own .venv on a fresh clone (python3 -m venv + pip install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
# A second environment with exactly the numpy/pandas/scipy of LEAN's image (pyproject extra "lean"):
# the algorithm-side tests and harness backtests run there too, so code needing newer versions fails here.
LEAN_VENV  := .venv-lean
LEAN_STAMP := $(LEAN_VENV)/.installed-stamp
LEAN_PIN_TESTS := tests/test_lean_pins.py tests/test_bot_config.py tests/test_circuit_breaker.py \
	tests/test_error_handling.py tests/test_exposure_accounting.py tests/test_greeks_and_entry.py \
	tests/test_order_executor.py tests/test_order_gateway.py tests/test_risk_limits.py \
	tests/test_roll_zero_limit.py tests/test_trading_bot.py tests/test_state_restore.py \
	tests/test_audit_trail.py tests/test_object_store_schema.py tests/test_inbox_consumer.py \
	tests/test_lean_disk.py tests/test_lean_examples.py tests/test_main_on_lean_data.py tests/test_end_to_end.py

.PHONY: help setup backtest report signoff test lint typecheck pytest pytest-lean-pins bench clean api mutate

help:
	@echo "make backtest [ARGS='--days 21 --seed 7 --start 2015-12-23 --storage storage']"
	@echo "make report    the options report of the last backtest: backtests/report/report.html [ARGS='--storage storage']"
	@echo "make signoff   paper-trading sign-off sheet from a live Object Store: backtests/signoff.md"
	@echo "make test      ruff + pyright (LEAN stubs) + pytest"
	@echo "make bench     every bench/bench_*.py: harness, on_data, Greeks, audit, pre-trade gateway"
	@echo "make mutate    mutation score of the money-path modules [MODULES='execution/ledger.py ...'] [JOBS=2]"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[api,dev,oracle]'
	touch $(STAMP)

setup: $(STAMP)

$(LEAN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(LEAN_VENV)
	$(LEAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LEAN_VENV)/bin/python -m pip install --quiet -e '.[lean]'
	touch $(LEAN_STAMP)

backtest: $(STAMP)
	$(PY) -m harness.runner $(ARGS)
	@echo "  report            make report -> backtests/report/report.html"

# The options report (HTML, PNGs, CSVs) from the Object Store folder and/or a result file.
report: $(STAMP)
	$(PY) -m reports $(ARGS)

# The paper-trading sign-off sheet (PASS/FAIL list) from a live Object Store folder.
signoff: $(STAMP)
	$(PY) -m reports.signoff $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/pyright

pytest: $(STAMP)
	$(PY) -m pytest

pytest-lean-pins: $(LEAN_STAMP)
	LEAN_PINS=1 $(LEAN_VENV)/bin/python -m pytest $(LEAN_PIN_TESTS)

test: lint typecheck pytest pytest-lean-pins

# Mutation testing of the money-path modules (bench/mutate.py): one forked pytest run per mutant,
# over the tests that execute its lines. JOBS=2 runs two mutants at a time.
MODULES ?=
JOBS    ?= 1
mutate: $(STAMP)
	$(PY) -m bench.mutate --jobs $(JOBS) $(MODULES)

# The sidecar API on 127.0.0.1 (API_PORT, default 8000); needs TRADING_API_TOKEN (>= 32 chars).
api: $(STAMP)
	$(PY) -m api --host 127.0.0.1

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(LEAN_VENV) storage backtests .pytest_cache .ruff_cache .benchmarks
