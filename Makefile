# The two commands a newcomer needs are `make demo` and `make test`; each sets up what it uses.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__UNIT_TEST_MODE ?= False

.PHONY: install demo test lint format sandbox airflow reliability clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# constraints.txt pins the versions the project is tested with, so a fresh machine gets the same.
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict airflow_orderdesk

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The figures of docs/reliability.md: fault matrix, concurrency, bad input, secrets.
reliability: $(INSTALLED)
	$(BIN)/python -m pytest tests/reliability -q -p no:cacheprovider

sandbox: $(INSTALLED)
	$(BIN)/orderdesk-sandbox

# Airflow standalone in .airflow/ with the sample DAGs, wired to a sandbox on 127.0.0.1:8765; Ctrl-C stops both.
airflow: $(INSTALLED)
	$(BIN)/python scripts/local_airflow.py

clean:
	rm -rf $(VENV) .airflow .demo .mypy_cache .ruff_cache .pytest_cache
