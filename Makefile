# stockwatch — `make help` lists the targets. Every target installs what it needs on first use.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export STOCKWATCH_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/stockwatch
SCRATCH := $(CURDIR)/.scratch
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
ARGS ?=
PYTEST_ARGS ?=

##@ Everyday

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m [ARGS=...]\n"} \
	  /^[a-zA-Z0-9_.-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: setup
setup: $(VENV)/.synced kafka-jars ## Install the Python environment (uv, from uv.lock) and fetch the Kafka broker

$(VENV)/.synced: uv.lock pyproject.toml operator/pyproject.toml scripts/bootstrap.sh
	@bash scripts/bootstrap.sh
	@touch $@

.PHONY: kafka-jars
kafka-jars: ## Fetch the Apache Kafka broker jars from Maven Central into the cache
	@bash scripts/kafka-fetch.sh >/dev/null

.PHONY: demo
demo: setup ## Run the whole data path locally (Kafka, fakesnow, producer, loader, dbt, report). ARGS="--duration 60"
	@$(VENV)/bin/stockwatch demo --workdir $(SCRATCH)/demo $(ARGS)

.PHONY: test
test: setup lint test-py ## Run every test (lint, type checks, unit, integration against the real parts)

.PHONY: test-py
test-py: setup ## Run the pytest suites (PYTEST_ARGS="-k loader" to narrow)
	@$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: setup ## ruff (lint + format check) and mypy --strict
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

.PHONY: fmt
fmt: setup ## Format and auto-fix
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

.PHONY: bench
bench: setup ## Run the benchmarks in bench/ (prints tables, saves JSON in bench/results/)
	@$(PY) -m bench $(ARGS)

.PHONY: lock
lock: ## Re-resolve uv.lock after changing dependencies
	@bash scripts/bootstrap.sh --lock

.PHONY: clean
clean: ## Remove the scratch dir (demo data, kubeconfigs); the download cache stays
	rm -rf $(SCRATCH)

# Each area adds its own targets (and prerequisites of `test`) in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))
