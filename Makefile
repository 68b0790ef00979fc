# ecohub — the two commands a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install assets lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

VENDOR := src/ecohub/web/static/vendor/VERSIONS.json

# Front-end libraries (ECharts, Leaflet) from the npm registry, copied into the package at build time.
$(VENDOR): web/package.json web/package-lock.json tools/vendor_assets.py
	$(PY) tools/vendor_assets.py

$(STAMP): $(BIN)/python pyproject.toml $(VENDOR)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

assets: $(VENDOR)

## run: the whole platform on embedded SQLite with demo data and simulated devices, web on 127.0.0.1:8000
run: $(STAMP)
	$(BIN)/ecohub demo --host 127.0.0.1 --port 8000

## test: every test; PostgreSQL tests run when ECOHUB_TEST_POSTGRES_URL is set (CI sets it)
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python tools/typecheck.py

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
