# Sitewatch: two commands do all the set-up.
#   make serve   install what is missing, start the embedded PostGIS, serve the app with demo data
#   make test    the same set-up, then the whole test suite against a real PostGIS
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_MAJOR ?= 15
PG_PACKAGES := postgresql-$(PG_MAJOR) postgresql-$(PG_MAJOR)-postgis-3
PORT ?=
HOST ?=

BROWSER_PACKAGES := chromium fonts-wqy-microhei
VENDOR := server/web/vendor
VENDOR_STAMP := $(VENDOR)/node_modules/.package-lock.json

.PHONY: setup system-deps browser-deps venv vendor serve test lint clean

setup: system-deps venv vendor

# PostgreSQL + PostGIS from the distribution's packages (installed when run as root on Debian/Ubuntu).
system-deps:
	@if [ -n "$$SITEWATCH_PG_BIN" ] || [ -n "$$TEST_DATABASE_URL$$SITEWATCH_DATABASE_URL" ]; then exit 0; fi; \
	if [ -x /usr/lib/postgresql/$(PG_MAJOR)/bin/initdb ] && \
	   [ -f /usr/share/postgresql/$(PG_MAJOR)/extension/postgis.control ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo ">> installing $(PG_PACKAGES) from the distribution's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(PG_PACKAGES) >/dev/null || exit 1; \
	else \
	  echo "Sitewatch needs PostgreSQL $(PG_MAJOR) with PostGIS 3. Please run:" >&2; \
	  echo "    sudo apt-get install $(PG_PACKAGES)" >&2; \
	  echo "(or set SITEWATCH_DATABASE_URL to an existing PostGIS database)" >&2; \
	  exit 1; \
	fi

# Headless Chromium and a CJK font for the page tests (Debian's packages; no browser download).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qiE 'wqy|noto.*cjk'; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo ">> installing $(BROWSER_PACKAGES) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(BROWSER_PACKAGES) >/dev/null || exit 1; \
	else \
	  echo "The page tests need Chromium and a CJK font. Please run:" >&2; \
	  echo "    sudo apt-get install $(BROWSER_PACKAGES)" >&2; \
	  exit 1; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Sitewatch needs Python 3.11 or newer ($(PYTHON) is older)" >&2; exit 1; }
	@if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  else echo "Please install the Python venv module: sudo apt-get install python3-venv" >&2; exit 1; fi; \
	fi
	@echo ">> creating $(VENV) and installing Sitewatch with its dependencies"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# The pages' JavaScript and CSS (Leaflet, marker clusters, vector tiles, Chart.js), served by the app itself:
# exact versions from server/web/vendor/package-lock.json, installed at set-up, never fetched from a CDN at
# run time. Re-installed when the lock file is newer than the installed tree (or nothing is installed).
vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): $(VENDOR)/package.json $(VENDOR)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing nodejs and npm from the distribution's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      nodejs npm >/dev/null || exit 1; \
	  else \
	    echo "The map and dashboard pages need npm to install their JavaScript libraries. Please run:" >&2; \
	    echo "    sudo apt-get install nodejs npm" >&2; \
	    echo "then: make vendor" >&2; \
	    exit 1; \
	  fi; \
	fi
	@echo ">> installing the pages' JavaScript libraries into $(VENDOR)/node_modules (npm ci)"
	@npm ci --prefix $(VENDOR) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(VENDOR_STAMP)

serve: setup
	@SITEWATCH_PORT=$${PORT:-$${SITEWATCH_PORT:-8000}} SITEWATCH_HOST=$${HOST:-$${SITEWATCH_HOST:-127.0.0.1}} \
	  $(BIN)/sitewatch serve

lint: venv
	$(BIN)/ruff check server mobile_api maps gis_data migrations tests

test: setup browser-deps lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var *.egg-info .pytest_cache .ruff_cache $(VENDOR)/node_modules
