# The two commands of a fresh machine: `make setup`, then `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test lint

setup:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	bash serving/setup.sh $(VENV)
	bash ui/setup_browser.sh
	bash api/setup_servers.sh
	@echo "ready: run 'make test', then '$(BIN)/longtail demo'"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest
