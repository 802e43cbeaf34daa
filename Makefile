# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export SCOPEGATE_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/scopegate.db

.PHONY: run serve test test-pg lint venv clean bench bench-scale soak

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e ".[server,test]"
	touch $(STAMP)

run: $(STAMP)  ## create the venv, install, init the SQLite database, serve on 127.0.0.1:5000
	mkdir -p instance
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi setup-link --base-url http://$(HOST):$(PORT)
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(STAMP)  ## the whole suite, twice: on SQLite, then on a throwaway PostgreSQL server
	$(BIN)/ruff check .
	@echo "== test suite on SQLite"
	$(BIN)/pytest
	@echo "== test suite on PostgreSQL (tests/pg.py starts and removes the server)"
	$(BIN)/python tests/pg.py -- $(BIN)/pytest

test-pg: $(STAMP)  ## only the PostgreSQL half (ARGS="tests/store -x" to narrow it)
	$(BIN)/python tests/pg.py -- $(BIN)/pytest $(ARGS)

serve: $(STAMP)  ## production serving: migrate, then granian (config/serve.py; slow clients cost nothing)
	mkdir -p instance
	$(BIN)/flask --app wsgi init-db
	SCOPEGATE_BIND=$${SCOPEGATE_BIND:-$(HOST):$(PORT)} $(BIN)/python -m config.serve

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache

# Benchmarks are never part of `make test`. See bench/run.sh for knobs and bench/RESULTS.md.
bench:  ## Scopegate vs node-oidc-provider and django-oauth-toolkit, side by side, one table
	bash bench/run.sh

bench-scale:  ## cost of token issuance/introspection at 10^3, 10^5, 10^6 live tokens
	BENCH_SCALE=1 bash bench/run.sh

soak: $(STAMP)  ## 30 minutes of mixed load, slow clients and guessing on two hosts sharing PostgreSQL and Redis
	$(BIN)/python bench/soak.py $(ARGS)
