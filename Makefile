# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export SCOPEGATE_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/scopegate.db

.PHONY: run test lint venv clean bench bench-scale

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

test: $(STAMP)  ## the whole suite
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache

# Benchmarks are never part of `make test`. See bench/run.sh for knobs and bench/RESULTS.md.
bench:  ## Scopegate vs node-oidc-provider and django-oauth-toolkit, side by side, one table
	bash bench/run.sh

bench-scale:  ## cost of token issuance/introspection at 10^3, 10^5, 10^6 live tokens
	BENCH_SCALE=1 bash bench/run.sh
