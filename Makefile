VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo test test-fast lint format bench screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

## The whole product offline: web, worker, beat and the sandbox, on embedded defaults.
demo: $(VENV)/.installed
	$(PY) -m ccsync.demo

## The whole test suite, against real PostgreSQL and Redis (started if they are not up), in
## about 7.5 minutes on this 2-core machine (target: under 10): on two xdist workers, each
## its own database, sandbox, Redis db and broker db (tests/settings.py). `--dist loadgroup`
## is tests/plugins/markers.py's: the whole stack's tests (browser, faults, bench: about
## 7 minutes) one after another on one worker while the other runs the rest. Then the
## sync again on SQLite, the demo's embedded database, where some paths differ (about
## 10 s, also on two workers: each its own database file and sandbox).
test: $(VENV)/.installed
	scripts/services.sh
	scripts/browser.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)
	DATABASE_URL=sqlite:///$(CURDIR)/var/tests.sqlite3 $(PY) -m pytest -q -n 2 \
		tests/sync/test_first_sync.py tests/sync/test_changes.py tests/sync/test_resume.py

## The inner loop, under a minute (about 30 s): the tests that need no sandbox server,
## stack, browser, faults or benchmarks (markers given by tests/plugins/markers.py), the
## engine's decisions against in-process fakes included, on two xdist workers (worksteal: a
## worker done early takes the other's tests). Bytecode is cached (__pycache__ is ignored
## by git): else each worker compiles every module again.
FAST_TESTS := not (sandbox or stack or browser or faults or bench)
test-fast: $(VENV)/.installed
	scripts/services.sh
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 2 --dist worksteal -m "$(FAST_TESTS)" $(PYTEST_ARGS)

## The README's pictures, taken again from the demo's own company (seeded as `make demo`
## seeds it) by their browser journey, tests/browser/test_readme_screenshots.py, which also
## checks the README's words against the pages; written to docs/screenshots/.
screenshots: $(VENV)/.installed
	scripts/services.sh
	scripts/browser.sh
	CCSYNC_README_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser/test_readme_screenshots.py

## ruff, then mypy over the app's packages ([tool.mypy] in pyproject.toml says which).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/mypy

## Every benchmark against the sandbox (about 10 minutes): prints one table of figures and
## targets and writes it to bench/results/latest.md. Its stack gets the database
## <BENCH_DATABASE_URL>_bench (made anew) and the Redis database BENCH_REDIS_URL (flushed).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ccsync
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13
bench: $(VENV)/.installed
	scripts/services.sh
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) \
		CELERY_BROKER_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH_ARGS)
