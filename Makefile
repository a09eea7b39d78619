# The two commands of the README: `make demo` and `make test`. Everything else serves them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint test test-fast demo bench lock clean

# The settings default to production and refuse to start without its secrets; the demo, the tests
# and the benchmarks opt in to the development configuration (and its local-only defaults).
demo test test-fast bench: export SLIPSTREAM_ENV := development
# The demo app (and with it `manage.py demo`) is installed only while SLIPSTREAM_DEMO is on.
demo: export SLIPSTREAM_DEMO := true

NODE_STAMPS := tools/theme-check/node_modules/.installed web_pixel/node_modules/.installed \
  tests/browser/snowplow_js/node_modules/.installed tools/eslint/node_modules/.installed
# Shopify's Admin API schema, which the tests validate every GraphQL document against, for the
# version pinned in shopapp/shopify/api.py (the one place that names it).
ADMIN_API_VERSION := $(shell sed -n 's/^ADMIN_API_VERSION = "\(.*\)"$$/\1/p' shopapp/shopify/api.py)
ADMIN_SCHEMA := .cache/shopify/admin_$(ADMIN_API_VERSION).json.gz

# Idempotent: reinstalls only when the dependency files change.
install: $(STAMP) $(NODE_STAMPS)
$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Python dependencies into $(VENV) (first time: a few minutes)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/lock.txt -e '.[dev]'
	@touch $(STAMP)

# Node is only for checking the storefront code (Theme Check, ESLint, the web pixel's tests).
%/node_modules/.installed: %/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix $*
	@touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	node tools/theme-check/run.mjs theme_extension
	tools/eslint/node_modules/.bin/eslint --max-warnings 0 .

$(ADMIN_SCHEMA): tools/shopify-schema/fetch.sh
	bash tools/shopify-schema/fetch.sh $@

test: lint $(ADMIN_SCHEMA)
	npm test --silent --prefix web_pixel
	$(VENV)/bin/pytest

test-fast: install $(ADMIN_SCHEMA)
	$(VENV)/bin/pytest -m "not integration and not browser"

# The demo starts its own Redis unless REDIS_URL is set; it needs a redis-server binary for that.
demo: install
	@if [ -z "$$REDIS_URL" ] && ! command -v redis-server >/dev/null; then \
	  echo "==> installing redis-server (Debian package)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server; fi; fi
	$(PY) manage.py demo

# The benchmarks load the collector with wrk, and start their own Redis unless REDIS_URL is set;
# each stops every process it started, even when it fails or is interrupted.
bench: install
	@missing=""; command -v wrk >/dev/null || missing="wrk"; \
	if [ -z "$$REDIS_URL" ] && ! command -v redis-server >/dev/null; then \
	  missing="$$missing redis-server"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing $$missing (Debian packages)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; fi
	$(PY) -m bench.run
	$(PY) -m bench.collector
	$(PY) -m bench.proxy
	$(PY) -m bench.freshness
	$(PY) -m bench.inference
	$(PY) -m bench.shops

# Re-resolve the pinned set after changing pyproject.toml.
lock:
	rm -rf /tmp/slipstream-lock && $(PYTHON) -m venv /tmp/slipstream-lock
	/tmp/slipstream-lock/bin/pip install --quiet -e '.[dev]'
	{ head -2 requirements/lock.txt; /tmp/slipstream-lock/bin/pip freeze --exclude-editable \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements/lock.new && mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache
