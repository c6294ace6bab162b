# The two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run with debug off, like production; the key below is for tests only.
TEST_ENV := DJANGO_SECRET_KEY=test-only-not-a-secret DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0

.PHONY: run install migrate seeds serve test test-sqlite test-postgresql test-fuzz bench lint format clean

run: install migrate seeds serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

migrate: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput

seeds: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py load_seeds

serve: install
	@echo "Serving the archive on http://$(HOST):$(PORT)/ (admin at /admin/, API at /api/v1/)"
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite: Schemathesis fuzzing a live server, then pytest on SQLite (with the
# browser and fault tests) and on a PostgreSQL server started for the run. pytest runs
# last so that the run ends with its summary of passed and failed tests.
test: test-fuzz test-sqlite test-postgresql

test-sqlite: install
	$(TEST_ENV) $(BIN)/pytest

test-postgresql: install
	$(TEST_ENV) scripts/with-postgresql.sh $(BIN)/pytest

test-fuzz: install
	BIN=$(BIN) scripts/fuzz-api.sh

# Benchmark against Datasette (minutes; not part of the tests). See docs/benchmarks.md.
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py --sizes $${SIZES:-1000,10000,100000} --engines sqlite
	scripts/with-postgresql.sh $(BIN)/python bench/run.py --sizes $${SIZES:-1000,10000,100000} --engines postgresql

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
