# Every target installs what it needs first, so on a fresh machine `make run` and `make test` just work.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LINT_PATHS := src tests $(wildcard bench)
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The explorer (explorer/, TypeScript) is built into the Python package; npm ci runs again when the lock changes.
NPM ?= npm
EXPLORER_DEPS := explorer/node_modules/.installed-$(shell cksum explorer/package-lock.json | cut -d' ' -f1)
EXPLORER_BUILT := src/provgraph/api/explorer_static/manifest.json
EXPLORER_SOURCES := explorer/package.json explorer/build.mjs explorer/tsconfig.json $(wildcard explorer/src/*.* explorer/src/*/*.*)

# $(call debian,COMMAND,PACKAGES,WHAT FOR,fatal|warn): when COMMAND is missing, install PACKAGES with apt-get if
# this is Debian and we are root; otherwise say what to install (and stop, when fatal).
define debian
	@if ! command -v $(1) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing $(2) with apt-get ($(3))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  elif [ "$(4)" = fatal ]; then \
	    echo "error: $(1) is missing: install $(2) (Debian/Ubuntu: sudo apt-get install $(2)); needed for $(3)" >&2; exit 2; \
	  else \
	    echo "note: $(1) is missing: install $(2) (Debian/Ubuntu: sudo apt-get install $(2)); needed for $(3)" >&2; \
	  fi; \
	fi
endef

.DEFAULT_GOAL := help
.PHONY: help install system-dossier dossier-image run test test-fast lint fmt schema neo4j-start neo4j-stop neo4j-status demo bench bench-smoke bench-scale clean \
	node browser explorer screenshots bench-explorer

help: ## Show this help
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) (3.11 or newer) is needed" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	@echo "Installing provgraph and its tools into $(VENV) (a minute or two the first time; each package is listed)"
	@# Not --quiet: a first install takes a while and a silent one looks stuck. pip's "Collecting" lines show
	@# progress; the whole log is kept, and its end shown when pip fails.
	@$(BIN)/pip install --disable-pip-version-check --progress-bar off -e '.[dev,fast]' 2>&1 \
	  | tee $(VENV)/pip-install.log | grep --line-buffered -E '^(Collecting|Successfully installed)' | cut -c1-100; \
	  status=$${PIPESTATUS[0]}; if [ $$status -ne 0 ]; then \
	    echo "error: pip install failed; the end of $(VENV)/pip-install.log:" >&2; tail -30 $(VENV)/pip-install.log >&2; exit $$status; fi
	@rm -f $(VENV)/.installed-*
	@touch $@

# The dossier's system packages: Pango and HarfBuzz for WeasyPrint's PDF, DejaVu fonts (the dossier names
# them, so pages look the same everywhere), Graphviz's dot for its lineage picture, poppler's pdftoppm for
# the test that turns a page into PNG. Installed when root on Debian and missing; otherwise say what to do.
DOSSIER_APT := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core graphviz poppler-utils

system-dossier:
	@missing=$$(for p in $(DOSSIER_APT); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing for the dossier (PDF, lineage picture):" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "warning: dossier documents need the Debian packages" $$missing "(as root: apt-get install" $$missing")" >&2; \
	fi

node:
	$(call debian,npm,nodejs npm,building the explorer,fatal)

browser: ## Chromium for the browser tests (apt-get as root on Debian)
	$(call debian,chromium,chromium,the browser tests of the explorer,warn)

$(EXPLORER_DEPS): explorer/package-lock.json | node
	cd explorer && $(NPM) ci --no-audit --no-fund --loglevel=error
	@rm -f explorer/node_modules/.installed-*
	@touch $@

$(EXPLORER_BUILT): $(EXPLORER_DEPS) $(EXPLORER_SOURCES)
	cd explorer && $(NPM) run --silent build

explorer: $(EXPLORER_BUILT) ## Build the explorer (npm ci && npm run build) into src/provgraph/api/explorer_static

install: $(STAMP) $(EXPLORER_BUILT) system-dossier ## Create .venv and install provgraph with its tools; build the explorer

run: install ## Start a local Neo4j, load the demo story, serve the explorer at http://127.0.0.1:8000/ (PROVGRAPH_PORT; API: /graphql)
	$(BIN)/provgraph neo4j start
	$(BIN)/provgraph demo load
	@echo "Development token (ADMIN): $$($(BIN)/provgraph token dev)"
	@echo "Open http://127.0.0.1:$${PROVGRAPH_PORT:-8000}/ and paste it to sign in (GraphiQL at /graphql then uses it too),"
	@echo "or send it as the header  Authorization: Bearer <token>."
	@# Ctrl-C stops the API only: say so, because the Neo4j server (about 1.5 GB) keeps running.
	@trap 'echo; echo "The API has stopped; the local Neo4j is still running (make neo4j-stop stops it)."' EXIT; \
	  PROVGRAPH_ENV=development $(BIN)/provgraph serve

test: install browser ## Run the whole suite against a real Neo4j (started and stopped here unless PROVGRAPH_TEST_NEO4J_URI is set)
	$(BIN)/pytest

test-fast: install ## The pure rules only (no database, a few seconds): domain rules, cost, config, the SDK logger
	$(BIN)/pytest tests/unit -q

lint: install ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

fmt: install ## Format and auto-fix with ruff
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

schema: install ## Regenerate schema.graphql from the code
	$(BIN)/provgraph schema export --output schema.graphql

neo4j-start: install ## Start the local Neo4j only
	$(BIN)/provgraph neo4j start

neo4j-stop: install ## Stop the local Neo4j
	$(BIN)/provgraph neo4j stop

neo4j-status: install ## Is the local Neo4j running?
	$(BIN)/provgraph neo4j status

DOSSIER_IMAGE := docs/images/dossier-page.png

dossier-image: install ## Redraw $(DOSSIER_IMAGE), the README's dossier page (the demo's, with `make run` serving)
	@mkdir -p $(dir $(DOSSIER_IMAGE)) && tmp=$$(mktemp -d) && \
	PROVGRAPH_TOKEN=$$($(BIN)/provgraph token dev) $(BIN)/provgraph export dossier \
		modelVersion:support-assistant:1 --format pdf --as-of 2026-07-01T00:00:00Z -o $$tmp/dossier.pdf && \
	pdftoppm -f 3 -l 3 -r 75 -png -singlefile $$tmp/dossier.pdf $(basename $(DOSSIER_IMAGE)) && \
	rm -r $$tmp && ls -l $(DOSSIER_IMAGE)

bench-smoke: install ## Benchmarks, smoke tier (a few minutes): B0-B3, results in bench/results and docs/benchmarks.md
	$(BIN)/python -m bench.run --tier smoke

bench-explorer: install browser ## Benchmark: the explorer drawing synthetic lineages (up to 5,000 nodes) in headless Chromium
	$(BIN)/python -m bench.explorer

screenshots: install browser ## Regenerate docs/images/*.png (the README's pictures) from the browser tests
	PROVGRAPH_SCREENSHOTS=docs/images $(BIN)/pytest tests/e2e/explorer -q

bench: install ## Benchmarks: the standard tier (B0-B7, ~25 min), then the scale curve (~30 min)
	$(BIN)/python -m bench.run --tier standard
	$(BIN)/python -m bench.scale

bench-scale: install ## The scale curve alone: the large graph at 100k and 1M inferences (10M: see bench/scale.py)
	$(BIN)/python -m bench.scale

clean: ## Stop local servers and remove .venv and .provgraph (data, logs, downloaded jars)
	-$(BIN)/provgraph neo4j stop
	-$(BIN)/provgraph neo4j stop --instance neo4j-test
	rm -rf $(VENV) .provgraph explorer/node_modules src/provgraph/api/explorer_static
