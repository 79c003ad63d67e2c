# Two commands for a new machine:  make run  (demo on SQLite)  and  make test  (whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000
PG_DIR ?= $(CURDIR)/.pg-test
PG_PORT ?= 55432
PYTEST_ARGS ?=
export PORTAL_DATA_DIR ?= $(abspath $(DATA))

.PHONY: run test install install-test system-test-deps lint messages catalogs bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[server,postgres]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test,server,postgres]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

## Set up the data dir and database, add the demo caseworker and cases, and serve.
run: install catalogs
	$(BIN)/flask --app wsgi setup --recovery-file "$(PORTAL_DATA_DIR)/RECOVERY-SECRET-DEMO-ONLY.txt"
	@echo ""
	@echo "!! DEMO ONLY: the recovery secret was written to $(PORTAL_DATA_DIR)/RECOVERY-SECRET-DEMO-ONLY.txt"
	@echo "!! A real installation keeps it OFFLINE (run 'flask --app wsgi setup' without --recovery-file)."
	@echo ""
	$(BIN)/flask --app wsgi demo
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT) --no-reload

## Tools the tests drive for real: Debian's Chromium, strace, PostgreSQL, Redis, w3m, exiftool, nginx, wapiti, Java
## for the offline HTML checker (installed when root), and the checker itself from the npm registry.
system-test-deps: tests/tools/node_modules/vnu-jar
	@missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  command -v strace >/dev/null || missing="$$missing strace"; \
	  command -v w3m >/dev/null || missing="$$missing w3m"; \
	  command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	  command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	  [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  command -v wapiti >/dev/null || missing="$$missing wapiti"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	      echo "Installing from Debian:$$missing"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else echo "Missing (install as root):$$missing"; fi; \
	  fi

tests/tools/node_modules/vnu-jar: tests/tools/package.json tests/tools/package-lock.json
	npm --prefix tests/tools ci --no-audit --no-fund --silent
	touch $@

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r crypto portal caseworker wsgi.py

## Install everything and run the whole suite on SQLite, then on PostgreSQL.
test: $(VENV)/.installed-test system-test-deps catalogs lint
	PORTAL_TEST_DATABASE_URL= $(BIN)/pytest -n 2 $(PYTEST_ARGS)
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then \
	  echo "== PostgreSQL ($$PORTAL_TEST_DATABASE_URL) =="; \
	  $(BIN)/pytest -n 2 $(PYTEST_ARGS); \
	elif ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  url=$$(tests/support/pg_cluster.sh start "$(PG_DIR)" $(PG_PORT)) || exit 1; \
	  echo "== PostgreSQL (throwaway cluster in $(PG_DIR)) =="; \
	  PORTAL_TEST_DATABASE_URL=$$url $(BIN)/pytest -n 2 $(PYTEST_ARGS); status=$$?; \
	  tests/support/pg_cluster.sh stop "$(PG_DIR)"; exit $$status; \
	else echo "PostgreSQL is not installed: the PostgreSQL run was not done." >&2; exit 1; fi

## Update the template catalog from the code, then every language catalog from it.
messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --no-wrap --project grievance-portal -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --no-wrap --ignore-obsolete

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache $(PG_DIR)
