# `make test` sets up .venv from this project's own files (first time only) and runs the
# checks and the whole test suite, including the real local model server test.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test lint bench setup
test: setup lint
	ANNOTATE_REQUIRE_LOCAL_SERVER=1 $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check annotator tests bench
	$(BIN)/ruff format --check annotator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,local]'
	touch $@

bench: setup
	$(BIN)/python bench/bench_run.py
	$(BIN)/python bench/bench_reconcile.py
