# The two commands of the README: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
DEMO_ACCOUNTS ?= 5000
DEMO_SEED ?= 42

export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo test lint bench clean help

help:  ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

install: $(BIN)/.installed  ## Create .venv and install the pinned dependencies

demo: install  ## Build the SQLite database, fill it with demo data, run the nightly flow
	$(BIN)/steward db init
	$(BIN)/steward demo-data --accounts $(DEMO_ACCOUNTS) --seed $(DEMO_SEED) --replace
	$(BIN)/steward run nightly

lint: install  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## ruff, mypy and the tests, on SQLite and PostgreSQL
	$(BIN)/pytest

bench: install  ## The benchmarks; each prints its figures
	$(BIN)/python -m benchmarks $(BENCH)

clean:  ## Remove the virtualenv, the database, outputs and Prefect's state
	rm -rf $(VENV) var .prefect
