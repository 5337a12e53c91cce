# The two commands a newcomer needs are `make demo` and `make test`; each sets up what it uses.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__UNIT_TEST_MODE ?= False

.PHONY: install demo test lint docs format sandbox airflow reliability clean browser benchmark

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

# The documentation, with every Sphinx warning an error.
docs: $(INSTALLED)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint docs browser
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser test (tests/browser) drives Debian's Chromium through Playwright's bundled driver; Playwright
# never downloads a browser here. Installs it with apt when missing (as root, as on CI machines).
browser:
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium present: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# The figures of docs/reliability.md: fault matrix, concurrency, bad input, secrets.
reliability: $(INSTALLED)
	$(BIN)/python -m pytest tests/reliability -q -p no:cacheprovider

# The figures of docs/performance.md: requests per export and use of the rate limit, against the sandbox.
benchmark: $(INSTALLED)
	$(BIN)/python benchmarks/run.py

sandbox: $(INSTALLED)
	$(BIN)/orderdesk-sandbox

# Airflow standalone in .airflow/ with the sample DAGs, wired to a sandbox on 127.0.0.1:8765; Ctrl-C stops both.
airflow: $(INSTALLED)
	$(BIN)/python scripts/local_airflow.py

clean:
	rm -rf $(VENV) .airflow .demo .mypy_cache .ruff_cache .pytest_cache
