# greenpark — two commands on a fresh machine:
#   make run    set everything up and start greenpark at http://127.0.0.1:8000
#   make test   set everything up and run every test (SQLite always; PostgreSQL and browser when present)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENDOR := src/greenpark/web/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 8000
HJ212_PORT ?= 9212
MQTT ?= 127.0.0.1:1883

.PHONY: run test setup assets db demo lint typecheck bench clean messages

run: setup db
	$(BIN)/greenpark serve --host $(HOST) --port $(PORT) --hj212-port $(HJ212_PORT) --simulate 14 --mqtt $(MQTT)

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src/greenpark
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed assets

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "greenpark needs Python >= 3.11")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Front-end assets come from the npm registry at build time and are served by the app (offline pages).
assets: $(VENDOR)/echarts.min.js

$(VENDOR)/echarts.min.js: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed once to fetch Apache ECharts from the npm registry"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js
	cp node_modules/echarts/LICENSE $(VENDOR)/echarts.LICENSE.txt
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	cp node_modules/swagger-ui-dist/LICENSE $(VENDOR)/swagger-ui.LICENSE.txt

db: setup
	$(BIN)/greenpark init
	$(BIN)/greenpark demo

# The translation catalogue: collect every message from the code, templates and scripts into
# src/greenpark/i18n/zh_CN.po (new ones untranslated until filled in); CI checks it is complete.
messages: setup
	$(BIN)/python -m greenpark.i18n.update

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/aqi_bench.py
	$(BIN)/python benchmarks/indicators_bench.py
	$(BIN)/python benchmarks/scenario_bench.py
	$(BIN)/python benchmarks/mrv_bench.py
	$(BIN)/python benchmarks/hj212_ingest.py --workers 2
	$(BIN)/python benchmarks/hj212_ingest.py --workers 2 --skip-codec --kill

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
