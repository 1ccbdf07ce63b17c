# TSCC: two commands do everything.
#   make run   - create .venv if needed, migrate, load demo data, start Redis
#                (embedded), the ASGI server, a Celery worker and beat.
#   make test  - the whole suite (PostgreSQL and Redis when DATABASE_URL and
#                REDIS_URL are set; SQLite and an embedded Redis otherwise).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint audit messages venv clean bench bench-summary bench-incidents bench-oncall bench-escalations bench-warroom bench-vendors bench-trends bench-load bench-faults fuzz

help:
	@echo "make run    start TSCC on http://localhost:8000/ (Ctrl-C stops everything)"
	@echo "make test   run the whole test suite"
	@echo "make lint   ruff and the import contracts"
	@echo "make audit  bandit and pip-audit (pip-audit needs the PyPI JSON API or OSV)"
	@echo "make messages  refresh and compile the translation catalogues"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "TSCC needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runstack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(STAMP)
	@mkdir -p var
	$(BIN)/ruff check --quiet .
	$(BIN)/lint-imports --no-cache > var/lint-imports.log || (cat var/lint-imports.log; exit 1)
	@tail -n 1 var/lint-imports.log
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Security: bandit on the shipped apps (config and skips in pyproject.toml), and
# pip-audit on the lock. --strict fails when a pin could not be checked (no
# route to the vulnerability service) instead of passing on an empty audit.
audit: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r tscc incidents escalations oncall vendors -q
	$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --strict

# Benchmarks print numbers (medians, p95, query counts); see bench/. `make
# bench` runs them all one after another (about 45 minutes on two cores: the
# mixed load alone is 10, fault injection 5) and ends with one table of every
# result (bench-summary; each bench keeps its rows in var/bench-results/).
# Each uses its own PostgreSQL database (created if missing) and Redis.
bench:
	-$(MAKE) --no-print-directory bench-incidents
	-$(MAKE) --no-print-directory bench-oncall
	-$(MAKE) --no-print-directory bench-escalations
	-$(MAKE) --no-print-directory bench-warroom
	-$(MAKE) --no-print-directory bench-vendors
	-$(MAKE) --no-print-directory bench-trends
	-$(MAKE) --no-print-directory bench-load
	-$(MAKE) --no-print-directory bench-faults
	@$(MAKE) --no-print-directory bench-summary

bench-summary: $(STAMP)
	@echo; echo "== every benchmark (latest run of each) =="
	@$(BIN)/python bench/summary.py

bench-incidents: $(STAMP)
	$(BIN)/python bench/incidents_list.py

bench-oncall: $(STAMP)
	$(BIN)/python bench/oncall.py

bench-escalations: $(STAMP)
	$(BIN)/python bench/escalations.py

bench-warroom: $(STAMP)
	$(BIN)/python bench/warroom.py

bench-vendors: $(STAMP)
	$(BIN)/python bench/vendors.py

bench-trends: $(STAMP)
	$(BIN)/python bench/trends.py

# Mixed load for 10 minutes (browsing, API writes, snapshots, alerts, war
# rooms) against the whole stack; BENCH_LOAD_SECONDS and BENCH_LOAD_SCALE.
bench-load: $(STAMP)
	$(BIN)/python bench/load.py

# Schemathesis against the OpenAPI schema (several minutes; not in `test`).
fuzz: $(STAMP)
	TSCC_FUZZ=1 $(BIN)/python -m pytest tests/test_api_schemathesis.py -q -p no:cacheprovider

# Fault injection against the real stack (not part of `bench`): kills and
# restarts worker, Redis, PostgreSQL (via a proxy), websockets and beat.
bench-faults: $(STAMP)
	$(BIN)/python bench/faults.py

# Needs GNU gettext; the compiled .mo files are committed so a fresh
# machine needs no gettext at all.
messages: $(STAMP)
	DEBUG=true $(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*'
	DEBUG=true $(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var/test
