# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export SCOPEGATE_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/scopegate.db
# `make run` is reached where it serves, so its issuer (discovery, every token's `iss`,
# the setup link) follows HOST and PORT unless SCOPEGATE_ISSUER says otherwise.
# A server bound to every interface is still reached locally at 127.0.0.1.
run: export SCOPEGATE_ISSUER := $(or $(SCOPEGATE_ISSUER),http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT))

.PHONY: run serve test test-pg fuzz mutation lint venv clean bench bench-scale soak

venv: $(STAMP)

# pip's and setuptools' notices (the editable-install warning) are kept out of
# `make run`'s output in $(VENV)/pip-install.log; they are shown when the install fails.
$(STAMP): pyproject.toml
	@echo "Installing Scopegate and its dependencies into $(VENV) (a minute or two; log: $(VENV)/pip-install.log)"
	@$(PYTHON) -m venv $(VENV)
	@{ $(BIN)/pip install --upgrade --quiet pip && $(BIN)/pip install --quiet -e ".[server,test]"; } \
	  > $(VENV)/pip-install.log 2>&1 || { cat $(VENV)/pip-install.log; exit 1; }
	@touch $(STAMP)

run: $(STAMP)  ## create the venv, install, init the SQLite database, serve on $(HOST):$(PORT) (127.0.0.1:5000)
	mkdir -p instance
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi setup-link
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(STAMP)  ## the whole suite, twice: on SQLite (with schemathesis), then on a throwaway PostgreSQL server
	$(BIN)/ruff check .
	@echo "== test suite on SQLite (schemathesis included: tests/test_schemathesis.py, fixed seed)"
	$(BIN)/pytest
	@echo "== test suite on PostgreSQL (tests/pg.py starts and removes the server)"
	$(BIN)/python tests/pg.py -- $(BIN)/pytest

test-pg: $(STAMP)  ## only the PostgreSQL half (ARGS="tests/store -x" to narrow it)
	$(BIN)/python tests/pg.py -- $(BIN)/pytest $(ARGS)

fuzz: $(STAMP)  ## longer schemathesis run (random seed) and Hypothesis properties with many more examples
	SCOPEGATE_SCHEMATHESIS=fuzz $(BIN)/pytest tests/test_schemathesis.py -s
	SCOPEGATE_HYPOTHESIS=fuzz $(BIN)/pytest tests/test_properties.py

mutation: $(STAMP)  ## mutmut over app/services/ and app/oauth/ (configured in pyproject.toml; not part of `make test`)
	$(BIN)/pip install --quiet -e ".[server,test,mutation]"
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python tests/mutation_report.py mutants > mutants/report.md
	head -20 mutants/report.md
	@echo "Every survivor, with the change it makes: mutants/report.md (docs/testing.md says what was done with them)"

serve: $(STAMP)  ## production serving: migrate, then granian (config/serve.py; slow clients cost nothing)
	mkdir -p instance
	$(BIN)/flask --app wsgi init-db
	SCOPEGATE_BIND=$${SCOPEGATE_BIND:-$(HOST):$(PORT)} $(BIN)/python -m config.serve

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache mutants .hypothesis

# Benchmarks are never part of `make test`. See bench/run.sh for knobs and bench/RESULTS.md.
bench:  ## Scopegate vs node-oidc-provider and django-oauth-toolkit, side by side, one table
	bash bench/run.sh

bench-scale:  ## cost of token issuance and introspection at 10^3 to 10^6 live tokens
	BENCH_SCALE=1 bash bench/run.sh

soak: $(STAMP)  ## 30 minutes of mixed load, slow clients and guessing on two hosts sharing PostgreSQL and Redis
	$(BIN)/python bench/soak.py $(ARGS)
