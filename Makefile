# taxsync: `make demo` and `make test` do all their set-up themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := .demo

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_HOME)
	$(BIN)/taxsync init --home $(DEMO_HOME) --jurisdiction us --currency USD
	$(BIN)/taxsync import-file data/sample/coinbase.csv --account coinbase --home $(DEMO_HOME)
	$(BIN)/taxsync import-file data/sample/ledger.csv --account ledger --home $(DEMO_HOME)
	$(BIN)/taxsync problems --home $(DEMO_HOME)
	$(BIN)/taxsync report --year 2024 --format pdf,csv,json --out reports --home $(DEMO_HOME)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check taxsync importer reports tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) reports/taxsync-* build dist .pytest_cache
