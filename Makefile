# Two commands matter: `make run` (try the bot in a terminal) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

# `make run` loads the demo district into an empty database, then chats as its principal (AS=rivera for a teacher).
ifeq ($(origin AS),default)  # make predefines AS (the assembler), so `AS ?= lopez` would never apply
AS := lopez
endif
run: $(STAMP)
	@$(BIN)/growthbot demo load --if-empty
	@$(BIN)/growthbot console --user $(AS)

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/ack_latency.py
	$(BIN)/python benchmarks/tick_cost.py
	$(BIN)/python benchmarks/turns.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/crash_loop.py
	$(BIN)/python benchmarks/flood.py

clean:
	rm -rf $(VENV) growthbot.db .pytest_cache
