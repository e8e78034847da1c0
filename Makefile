# The hub's two commands are `make run` and `make test`; both set up what they need first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
GEN_STAMP := gen/.stamp
TOOLS_STAMP := tools/node_modules/.installed
export PYTHONWARNINGS ?= ignore::DeprecationWarning
export HUB_RUNTIME_DIR ?= var

.PHONY: setup run test test-unit test-integration lint bench chaos services clean lock

setup: $(STAMP) $(GEN_STAMP) $(TOOLS_STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	echo "$(CURDIR)/gen" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/riskhub-gen.pth
	touch $@

$(GEN_STAMP): $(STAMP) $(shell find protos -name '*.proto')
	PY=$(PY) scripts/gen-protos.sh
	touch $@

$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

services:
	scripts/ensure-services.sh --postgres

run: setup
	scripts/ensure-services.sh
	$(VENV)/bin/honcho -f infra/Procfile -d . start

test: setup services
	$(VENV)/bin/pytest -q tests

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit

test-integration: setup services
	$(VENV)/bin/pytest -q tests/integration tests/e2e

lint: setup
	$(VENV)/bin/ruff check .
	bash scripts/lint-protos.sh
	$(PY) scripts/gen_asyncapi.py --check
	node scripts/check_asyncapi.mjs contracts/asyncapi.yaml

bench: setup services
	$(PY) -m bench.run

lock:
	$(VENV)/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) gen var tools/node_modules .pytest_cache
