# taxsync: `make demo` and `make test` do all their set-up themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := .demo
DEMO_EPOCH := 1751328000  # 1 July 2025 00:00 UTC: the demo report says it was written then, whatever the day

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The demo: the bundled sample files, plus a simulated Binance account imported over its API with a read-only
# key, and the exchange prices of every year it spans (the simulator runs on 127.0.0.1 for the duration and
# is stopped afterwards). prices sync exits 1 when some asset has no market there; the report lists those.
demo: $(STAMP)
	rm -rf $(DEMO_HOME) && mkdir -p $(DEMO_HOME)
	$(BIN)/taxsync init --home $(DEMO_HOME) --jurisdiction us --currency USD
	$(BIN)/taxsync import-file data/sample/coinbase.csv --account coinbase --home $(DEMO_HOME)
	$(BIN)/taxsync import-file data/sample/ledger.csv --account ledger --home $(DEMO_HOME)
	$(BIN)/python -m importer.simulator --exchange binance --seed 2024 --trades 60 --traded 3 --markets 20 \
		--end 2025-06-30 --key demo-read-only-key --secret demo-read-only-secret \
		--url-file $(DEMO_HOME)/simulator.url & \
	  sim=$$!; trap 'kill $$sim 2>/dev/null' EXIT; \
	  for i in $$(seq 100); do test -s $(DEMO_HOME)/simulator.url && break; sleep 0.1; done; \
	  DEMO_BINANCE_KEY=demo-read-only-key DEMO_BINANCE_SECRET=demo-read-only-secret sh -c '\
	    $(BIN)/taxsync account add binance-demo --exchange binance --api-key-env DEMO_BINANCE_KEY \
	      --secret-env DEMO_BINANCE_SECRET --api-url "$$(cat $(DEMO_HOME)/simulator.url)" --since 2021-01-01 \
	      --home $(DEMO_HOME) && \
	    $(BIN)/taxsync account check --home $(DEMO_HOME) binance-demo && \
	    $(BIN)/taxsync import --home $(DEMO_HOME) && \
	    { $(BIN)/taxsync prices sync --home $(DEMO_HOME) || test $$? -eq 1; }'
	$(BIN)/taxsync problems --home $(DEMO_HOME)
	SOURCE_DATE_EPOCH=$(DEMO_EPOCH) $(BIN)/taxsync report --year 2024 --format pdf,csv,json --out reports \
		--home $(DEMO_HOME)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check taxsync importer reports tests bench
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python bench/commands.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/engine_million.py
	$(BIN)/python bench/prices_lookup.py
	$(BIN)/python bench/valuation_million.py
	$(BIN)/python bench/export_speed.py
	$(BIN)/python bench/ops_status.py
	$(BIN)/python bench/import_million.py --format binance
	$(BIN)/python bench/import_million.py --format koinly

clean:
	rm -rf $(VENV) $(DEMO_HOME) reports/taxsync-* build dist .pytest_cache
