# The two commands that always work on a fresh machine: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
ENV ?= dev
# WITH_PG runs a command with TEST_DATABASE_URL set to a real PostgreSQL (see stack/postgres.py).
WITH_PG := $(PY) -m stack.postgres

.PHONY: up test browser check lint bench chaos canary restore-drill migration-gate lock clean screenshots

# $(VENV)/.installed is rebuilt whenever a lock file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@echo "==> installing the locked packages into $(VENV) (the first time takes a minute or two)"
	$(PY) -m pip install -q --require-hashes -r requirements.txt
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
	touch $@

# checkov pins old versions of common packages, so it lives in a virtual environment of its own.
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov>=3.2,<4"
	touch $@

# up runs A, B and C behind HAProxy on the embedded SQLite file (or DATABASE_URL when set).
# PROFILE=production (with a PostgreSQL DATABASE_URL) puts PgBouncer between them and the database.
up: $(VENV)/.installed
	$(PY) -m stack.local --env $(ENV)

# TEST_PORT is the base of the test stacks' ports (README "Ports"): below Linux's ephemeral range
# (32768-60999), where an outgoing connection can hold a port a test stack is about to bind.
TEST_PORT ?= 20000

# test runs every test against a real PostgreSQL except the quarantined ones (tests/quarantine.py:
# failing after this session's merges, each with its reason). The browser suite is in it as one test,
# tests/stack/test_browser_suite.py, which runs tests/browser in a pytest process of its own: Playwright's
# event loop must not share a process with Django's database tests.
test: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov PIZZA_TEST_PORT=$(TEST_PORT) $(WITH_PG) $(PY) -m pytest -m "not browser and not quarantine" $(PYTEST_ARGS)

# browser runs the Playwright suite (Debian's Chromium, axe-core) directly, test by test (make test runs it whole).
browser: $(VENV)/.installed
	PIZZA_TEST_PORT=$(TEST_PORT) $(WITH_PG) $(PY) -m pytest tests/browser $(PYTEST_ARGS)

# check is the fast loop: every test but the `slow` and `stack` ones (about a minute). CI runs make test.
check: $(VENV)/.installed
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(WITH_PG) $(PY) -m pytest -m "not slow and not stack" $(PYTEST_ARGS)

# lint: ruff (lint, then format), mypy, and no model change without its migration. Config: pyproject.toml.
# makemigrations --check reads the models only; an in-memory SQLite stands in for the database.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd app && DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL= SQLITE_PATH=:memory: ../$(PY) manage.py makemigrations --check --dry-run

# migration-gate fails when a migration would break a release still running older code.
migration-gate: $(VENV)/.installed
	$(WITH_PG) sh -c 'cd app && DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL="$$TEST_DATABASE_URL" ../$(PY) manage.py migration_gate'

# bench prints throughput, latency and memory figures beside a ceiling measured in the same run.
bench: $(VENV)/.installed
	$(WITH_PG) $(PY) -m stack.bench $(BENCH_ARGS)

# chaos runs the fault scenarios against the local stack on PostgreSQL and prints a table.
chaos: $(VENV)/.installed
	$(WITH_PG) $(PY) -m stack.chaos $(CHAOS_ARGS) $(if $(SOAK),--soak $(SOAK))

# screenshots regenerates docs/screenshots/ (every page of every theme, phone and desktop) from
# the local stack on PostgreSQL, in Debian's Chromium (apt-get install chromium).
screenshots: $(VENV)/.installed
	$(WITH_PG) $(PY) tests/browser/screenshots.py

# canary releases a good and a bad build of variant A as canaries under load: one promoted, one rolled back.
canary: $(VENV)/.installed
	$(WITH_PG) $(PY) -m stack.deploy.canary_demo $(CANARY_ARGS)

# restore-drill restores PostgreSQL to a point in time under live orders and prints RPO and RTO;
# SIZE=1000000 adds a drill with that many bulk orders, to show how restore time grows with size;
# DRILL_ARGS="--port N --lead S" moves its ports (N..N+101) and sets the seconds of orders around T.
SIZE ?= 0
restore-drill: $(VENV)/.installed
	$(PY) -m stack.drill --sizes $(if $(filter 0,$(SIZE)),0,0,$(SIZE)) $(DRILL_ARGS)

# lock recompiles the lock files from pyproject.toml.
lock: $(VENV)/.installed
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --extra dev --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements-dev.txt pyproject.toml

clean:
	rm -rf .stack reports app/staticfiles

# openapi rewrites docs/api/openapi.json from the code (a test fails while the two differ).
.PHONY: openapi
openapi: $(VENV)/.installed
	cd app && DJANGO_SETTINGS_MODULE=config.settings.local ../$(PY) -m api.openapi --write
