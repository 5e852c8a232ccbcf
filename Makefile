# Desk Intake: the two commands are `make run` and `make test`; each sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck browser bench clean reset audit load fuzz

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
test: setup browser lint typecheck audit
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check layers functions tests infra bench training
	$(BIN)/cfn-lint template.yaml
	mkdir -p build
	$(BIN)/python infra/sam_transform.py template.yaml > build/template.cfn.json
	$(BIN)/cfn-lint build/template.cfn.json

typecheck: setup
	$(BIN)/mypy layers/core/python/deskintake

## Debian's Chromium (and a CJK font for readable screenshots) for the dashboard tests.
browser:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/wqy || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-zenhei)

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Known vulnerabilities in the installed dependencies (pip-audit, in a venv of its own, asks
## PyPI's JSON API). Fails on a known vulnerability; only reports when the API is unreachable.
audit: setup
	@test -x $(VENV)/audit/bin/pip-audit || { $(PYTHON) -m venv $(VENV)/audit && $(VENV)/audit/bin/pip install --quiet pip-audit; } || echo "audit: pip-audit could not be installed - NOT AUDITED"
	@mkdir -p build && rm -f build/pip-audit.json
	@-test -x $(VENV)/audit/bin/pip-audit && $(VENV)/audit/bin/pip-audit --progress-spinner off -f json -o build/pip-audit.json --path "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" 2>build/pip-audit.log
	@$(BIN)/python tests/reliability/audit_report.py build/pip-audit.json

## Bounded load test: concurrent webhooks + SMTP mails against a local stack on ports 185xx.
load: setup
	$(BIN)/python bench/load_local_stack.py $(LOAD_ARGS)

## Long fuzz run of the mail parser and the webhook routes (make test runs a short one).
fuzz: setup
	DESKINTAKE_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} $(BIN)/pytest -q -p no:cacheprovider tests/reliability/test_hostile_email.py tests/reliability/test_hostile_webhooks.py -k "fuzzed or random or signed or unsigned or any_query"

reset: setup
	$(BIN)/deskintake reset --yes

clean:
	rm -rf $(VENV) build test-output .pytest_cache .ruff_cache .mypy_cache
