# Everyday commands. `make run` and `make test` work on a fresh clone: they
# create the virtualenv and install the pinned requirements first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrations-check bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## Serve on http://127.0.0.1:8000 with the sample sessions (SQLite, no Redis).
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_schedule
	$(BIN)/python manage.py sync_github
	$(BIN)/python manage.py ensure_admin
	@echo "Admin: http://127.0.0.1:8000/admin/   API: http://127.0.0.1:8000/api/sessions/   Health: http://127.0.0.1:8000/health"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the test suite (against DATABASE_URL / REDIS_URL when set).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
