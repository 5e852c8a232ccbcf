# Desk Intake: the two commands are `make run` and `make test`; each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck browser bench clean reset

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Start the local stack (moto as AWS, gateway + dashboard, SMTP, clock) with demo data.
run: setup
	$(BIN)/deskintake serve

## Lint, then every test (unit, integration against moto, e2e over SMTP/HTTP and Chromium).
test: setup browser lint
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check layers functions tests infra bench training
	$(BIN)/cfn-lint template.yaml
	mkdir -p build
	$(BIN)/python infra/sam_transform.py template.yaml > build/template.cfn.json
	$(BIN)/cfn-lint build/template.cfn.json

typecheck: setup
	$(BIN)/mypy layers/core/python/deskintake

## Debian's Chromium for the dashboard tests (Playwright drives /usr/bin/chromium).
browser:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

reset: setup
	$(BIN)/deskintake reset --yes

clean:
	rm -rf $(VENV) build test-output .pytest_cache .ruff_cache .mypy_cache
