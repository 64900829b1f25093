# Tandem: `make run` (app with demo data) and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The local app runs in DEBUG with a throw-away key unless the environment says otherwise.
RUN_ENV := DEBUG=$${DEBUG:-true} SECRET_KEY=$${SECRET_KEY:-local-dev-only}

.PHONY: install run test lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

run: install
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --if-empty
	$(RUN_ENV) $(BIN)/python manage.py recompute_kpis --if-empty
	$(RUN_ENV) $(BIN)/python manage.py demo_logins --url http://$(HOST):$(PORT)
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks print ratios against a baseline measured in the same process; point DATABASE_URL at
# the database to measure (e.g. one loaded with `manage.py seed_demo --leads 1000000`).
bench: install
	$(RUN_ENV) $(BIN)/python bench/recompute.py
	$(RUN_ENV) $(BIN)/python bench/pages.py
	$(RUN_ENV) $(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
