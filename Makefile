# The two commands a user runs: `make run` and `make test` (see README.md).
# Every install step lives here, so a fresh clone on a fresh machine works.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# make run VERBOSE=1: the server logs a line per request
VERBOSE ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SPA_SOURCES := $(shell find static-site/src static-site/public static-site/index.html static-site/vite.config.ts static-site/tsconfig.json -type f 2>/dev/null)

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup spa browser dynamodb-local tables demo bench clean deploy cfn-tools

## make run: set everything up, load demo data (once) and start the product on :$(PORT)
run: setup spa
	$(BIN)/missionctl demo load --if-empty
	$(BIN)/missionctl run --host 127.0.0.1 --port $(PORT) $(if $(VERBOSE),--verbose)

## make test: install what the tests need and run the whole suite
test: setup spa browser dynamodb-local cfn-tools
	cd static-site && npm test --silent
	$(BIN)/python -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml collectors/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e . -e ./collectors
	touch $@

spa: static-site/dist/index.html

static-site/node_modules/.installed: static-site/package-lock.json
	cd static-site && npm ci --no-audit --no-fund --loglevel=error
	touch $@

static-site/dist/index.html: static-site/node_modules/.installed static-site/package.json $(SPA_SOURCES)
	cd static-site && npm run build --silent
	cd static-site && npm run size --silent

dynamodb-local: tools/dynamodb-local/node_modules/.installed
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

tools/dynamodb-local/node_modules/.installed: tools/dynamodb-local/package-lock.json
	npm ci --prefix tools/dynamodb-local --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the end-to-end tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

## make tables: create the DynamoDB tables of a stage (STORE=dynamodb TABLE_PREFIX=...)
tables: setup
	$(BIN)/missionctl tables create

## make bench: the measurements in benchmarks/README.md
bench: setup dynamodb-local
	$(BIN)/python -m benchmarks.run

## make deploy STAGE=prod: the whole product on AWS, one stack (README.md, Deploy to AWS).
## Checks credentials and settings before building anything.
STAGE ?= prod
deploy: setup
	$(BIN)/python infrastructure/deploy.py --stage $(STAGE) --check
	$(MAKE) spa
	$(BIN)/python infrastructure/deploy.py --stage $(STAGE)

# cfn-lint and aws-sam-translator in their own virtualenv: the translator pins another pydantic.
cfn-tools: .venv-cfn/.installed

.venv-cfn/.installed: requirements-cfn.txt
	$(PYTHON) -m venv .venv-cfn
	.venv-cfn/bin/pip install --quiet -r requirements-cfn.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-cfn static-site/node_modules static-site/dist tools/dynamodb-local/node_modules
