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

# The inner loop: every test that starts no service (no LLM, Chroma server, browser, Redis,
# PostgreSQL) and is not marked slow; 641 tests in 3m50s here.
test-unit:
	$(BIN)/pytest -m "not (llm or vllm or chroma_server or browser or scaleout or slow)"
