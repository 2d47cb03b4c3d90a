# CWTS Desk: `make run` brings the desk up, `make test` proves it, `make bench` measures it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SIM ?= 1
# The suite runs against real PostgreSQL and Redis (CI has both on 127.0.0.1).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help run test lint types bench engine engine-or-pure frontend chromium redis clean

help:
	@echo "make run    - install, build, migrate, seed and start the whole desk on http://127.0.0.1:$(PORT)"
	@echo "make test   - lint, types, migrations check and the whole suite (PostgreSQL + Redis + chromium)"
	@echo "make bench  - print the benchmarks' figures"
	@echo "make engine - compile the matching engine with mypyc into var/engine-build (if stale)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt requirements/constraints.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $@

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

static/desk/desk.js: frontend/node_modules/.package-lock.json $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts
	cd frontend && npm run build

frontend: static/desk/desk.js

.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))')" > .env
	@echo "Wrote .env with a fresh SECRET_KEY (local use only)."

# The engine compiled by mypyc, outside the source tree; a no-op while the sources are unchanged.
# apps/matching/engine/__init__.py uses it when it is current, else the plain Python sources.
engine: $(VENV)/.installed
	@$(BIN)/python scripts/build_engine.py

# The same for the desk and the benchmarks: without a C compiler they run plain Python.
engine-or-pure: $(VENV)/.installed
	@$(BIN)/python scripts/build_engine.py --optional

redis: $(VENV)/.installed
	@$(BIN)/python scripts/ensure_redis.py

chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(VENV)/.installed frontend .env redis engine-or-pure
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  CWTS Desk: http://127.0.0.1:$(PORT)/   (API docs: /api/docs/, admin: /admin/)"
	@echo "  Logins (password: $${DEMO_PASSWORD:-demo}): trader1, trader2 (traders), risk1 (risk manager),"
	@echo "          auditor1 (auditor), admin (administrator)"
	@echo
	DESK_PORT=$(PORT) $(BIN)/honcho start $(if $(filter 0,$(SIM)),web matcher worker beat,)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed
	SECRET_KEY=typecheck-only $(BIN)/mypy apps project scripts

# Two passes, so that every test runs on both builds of the engine: PostgreSQL with the compiled
# engine (a build that fails fails the target), SQLite with the plain Python sources.
test: $(VENV)/.installed frontend chromium engine
	$(MAKE) lint types
	cd frontend && npm run typecheck
	SECRET_KEY=test-only DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	CWTS_ENGINE=compiled SECRET_KEY=test-only DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest
	@echo "The suite again on the embedded default database (SQLite), with the engine as plain Python:"
	CWTS_ENGINE=pure SECRET_KEY=test-only DATABASE_URL=sqlite:///$(CURDIR)/var/test-base.sqlite3 $(BIN)/pytest -q -m "not postgresql"

bench: $(VENV)/.installed engine-or-pure
	SECRET_KEY=bench-only $(BIN)/python manage.py bench_engine
	CWTS_ENGINE=pure SECRET_KEY=bench-only $(BIN)/python manage.py bench_engine
	SECRET_KEY=bench-only $(BIN)/python manage.py bench_pipeline
	SECRET_KEY=bench-only $(BIN)/python manage.py bench_audit_search

clean:
	rm -rf $(VENV) var static/desk frontend/node_modules
