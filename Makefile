# Dunning: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: demo up down openapi test bootstrap lint unit integration chaos bench contracts contracts-snapshot stack-up stack-down services-up services-down clean

bootstrap:            ## install uv if missing and the locked environment
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
	@uv sync --frozen --quiet

demo: bootstrap       ## start everything, run the sample portfolio drawn live, print a summary, stop (STAY=1: stay up until Ctrl-C)
	@DUNNING_DEMO_STAY="$(or $(STAY),$(DUNNING_DEMO_STAY),0)" bash deploy/local/demo.sh

test: bootstrap       ## lint, types, unit, integration and end-to-end tests on the real stack
	@bash deploy/local/test.sh

lint: bootstrap
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy
	bash deploy/local/mypy_tests.sh
	uv run lint-imports

unit: bootstrap       ## every test that needs no Kafka, PostgreSQL or Redis (loopback HTTP is fine)
	DUNNING_STACK_EXTERNAL=1 uv run pytest -m "not integration and not e2e and not chaos"

integration: bootstrap  ## the tests that need the local stack (started by `make stack-up`)
	DUNNING_STACK_EXTERNAL=1 uv run pytest -m "integration"

chaos: bootstrap      ## the chaos suite on its own cluster (deploy/local/cluster.sh); minutes long
	uv run python -m tests.chaos.driver

bench: bootstrap      ## every benchmark; figures printed and written to bench/results/
	@bash bench/run_all.sh

contracts: bootstrap  ## regenerate JSON Schema and AsyncAPI from the models
	uv run python -m dunning_core.contracts.schema docs/contracts

contracts-snapshot: contracts  ## accept the current schemas as the compatibility baseline
	for f in docs/contracts/*.schema.json; do cp "$$f" "libs/dunning-core/tests/snapshots/$$(basename $$f .schema.json).json"; done

stack-up:
	@bash deploy/local/stack.sh up
stack-down:
	@bash deploy/local/services.sh stop || true
	@bash deploy/local/stack.sh down
services-up: up      ## the same as `make up` (kept for old habits)
services-down: down   ## the same as `make down`
up: bootstrap         ## the stack and every service on the wall clock, left running (see .env.example)
	@bash deploy/local/up.sh
down:                 ## stop what `make up` started (data kept)
	@bash deploy/local/down.sh
openapi: bootstrap    ## regenerate docs/openapi/<service>.json from the services' apps
	uv run python -m dunning_testkit.openapi docs/openapi
