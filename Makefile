# The two commands of a fresh machine: `make setup`, then `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test test-unit lint

setup:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	bash serving/setup.sh $(VENV)
	bash ui/setup_browser.sh
	bash runtime/setup_servers.sh
	@echo "ready: run 'make test', then '$(BIN)/longtail demo'"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

# The inner loop: tests/unit, fast and hermetic (no LLM, Chroma server, browser, Redis or
# PostgreSQL; no long CLI runs). tests/integration holds the suites that start them.
# Two worker processes (pytest-xdist), a test file per worker at a time, so a module's
# shared fixture is built once; every unit test is safe in parallel (own home, tmp paths,
# free ports).
test-unit:
	$(BIN)/pytest tests/unit -n 2 --dist loadfile
