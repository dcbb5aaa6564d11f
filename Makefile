# dlzoo: `make run` runs the reference suite (its table also goes to docs/results/ and README.md),
# `make test` the tests. Both set up .venv first; `make run` exits non-zero when an entry does not pass.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# test processes (pytest-xdist): one per CPU, at most 4; a test process is mostly one busy core
TEST_JOBS ?= $(shell $(PYTHON) -c "import os; n = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count(); print(min(4, n or 1))")

.PHONY: run test lint bench list clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m zoo reproduce --suite quick --docs docs/results --readme README.md

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_JOBS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) scripts/bench_all.py --docs docs/results

list: $(STAMP)
	$(PY) -m zoo list

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
