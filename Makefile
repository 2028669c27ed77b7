VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo test lint format bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

## The whole product offline: web, worker, beat and the sandbox, on embedded defaults.
demo: $(VENV)/.installed
	$(PY) -m ccsync.demo

## The whole test suite, against real PostgreSQL and Redis (started if they are not up).
test: $(VENV)/.installed
	scripts/services.sh
	scripts/browser.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
