# make demo  - set up from nothing and produce the example project through every asset
#              (a progress bar; DEBUG=1 shows Dagster's log of the run instead of keeping it in a file)
# make test  - set up and run the test suite (needs PostgreSQL and Redis; started when missing)
# make dev   - the Dagster UI on http://127.0.0.1:3000, on the same instance the demo used
# make serve - production-style: dagster-webserver (127.0.0.1) + dagster-daemon on dagster.yaml
# make worker - a Celery worker of the distributed mode (README: Running on several machines)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup system demo dev serve worker test services bench clean

setup: system $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml

system:
	@bash scripts/system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $@

demo: setup
	$(BIN)/pipeline demo $(BRIEF) $(if $(DEBUG),--debug)

dev: setup
	$(BIN)/dagster dev -h 127.0.0.1 -p $${PORT:-3000} -w workspace.yaml

serve: setup
	bash scripts/serve.sh

worker: setup
	$(BIN)/pipeline worker --name $${NAME:-worker} --queues $${QUEUES:-default,render}

services:
	@bash scripts/services.sh

test: setup services
	@bash scripts/system-packages.sh --test
	PIPELINE_EVENTS=off VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs  # the definitions load (no projection)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/render/run.py

clean:
	rm -rf $(VENV) .dagster_home data/projects data/cache
