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

# The benchmark suite (README: Benchmarks): seeds LEADS leads into a dedicated PostgreSQL database
# (BENCH_DATABASE_URL, dropped first) and Redis db (BENCH_REDIS_URL, flushed), runs gunicorn and a
# Celery worker on loopback, prints a table and writes bench/results.json. Part of no CI run.
LEADS ?= 1000000
bench: install
	$(BIN)/python bench/run.py --leads $(LEADS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
