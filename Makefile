# Mailwarden: `make run` to start it, `make test` to check everything, `make bench` for figures.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint types contracts unit bench lock clean assets screenshots

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Third-party browser assets (the charting library) come from the npm registry at set-up,
# pinned by web-assets/package-lock.json, and are copied into static/vendor (not committed).
ASSETS := web-assets
VENDOR := src/mailwarden/web/static/vendor
ASSETS_STAMP := $(VENDOR)/.installed-stamp

$(ASSETS_STAMP): $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the console runs without its charts (install npm, then make assets)"; \
	else \
	  (cd $(ASSETS) && npm install --no-audit --no-fund --loglevel=error) && \
	  mkdir -p $(VENDOR) && \
	  cp $(ASSETS)/node_modules/uplot/dist/uPlot.iife.min.js \
	     $(ASSETS)/node_modules/uplot/dist/uPlot.min.css $(VENDOR)/ && \
	  touch $@; \
	fi

assets: $(ASSETS_STAMP)

install: $(STAMP) assets

run: install
	$(BIN)/mailwarden serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

test: assets lint types contracts unit

# The README's screenshots: the browser tests write them to test-artifacts/.
screenshots: install
	$(BIN)/pytest -m browser tests/e2e -q
	mkdir -p docs
	cp test-artifacts/overview.png docs/overview.png
	cp test-artifacts/incident.png docs/incident.png

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/overview.py
	$(BIN)/python bench/gate.py
	$(BIN)/python bench/detect.py

lock:
	$(BIN)/pip freeze --exclude-editable --disable-pip-version-check | sort > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
