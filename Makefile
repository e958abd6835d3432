# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/household_ledger
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test lint venv deps test-deps fuzz soak client

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.deps: $(BIN)/python requirements/base.txt
	$(BIN)/pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.deps requirements/test.txt
	$(BIN)/pip install --quiet -r requirements/test.txt
	touch $@

deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps

## run: create the virtualenv, install, migrate and serve the API on 127.0.0.1:$(PORT).
## Without DATABASE_URL it uses the embedded PostgreSQL (data in .pgdata/), and without
## REDIS_URL it runs Celery tasks inline with a local-memory cache: no services are needed.
## Ctrl-C (or SIGTERM) stops the server, and the embedded PostgreSQL with it.
run: $(VENV)/.deps
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	@printf '\nIn another shell, get a development token, then call the API:\n  %s\n  %s\n\n' \
	  'export TOKEN=$$(DJANGO_DEBUG=true $(BIN)/python manage.py dev_token --user user_dev)' \
	  'curl -H "Authorization: Bearer $$TOKEN" http://127.0.0.1:$(PORT)/auth/me'
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: install what the tests need and run the whole suite against PostgreSQL and Redis.
test: $(VENV)/.test-deps
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

## fuzz: the long schemathesis run (500 examples per operation).
fuzz: $(VENV)/.test-deps
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-200} \
	  $(BIN)/python -m pytest household_ledger/tests/test_schema_fuzz.py $(PYTEST_ARGS)

## soak: 10 minutes of mixed traffic on localhost, then a consistency check.
soak: $(VENV)/.test-deps
	$(BIN)/python -m bench.soak --minutes $${SOAK_MINUTES:-10}

## client: the typed TypeScript client's CI (schema drift, tsc --strict, the flows and the
## offline browser test against a live server): .ci/client. Needs node 20 and chromium.
client: $(VENV)/.deps
	bash .ci/client
