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

# Every figure in docs/PERFORMANCE.md; the first three rewrite their own sections there, the rest print theirs
# (copied in by hand, with machine, load and commit). About 25 minutes on a quiet 2-core machine.
BENCH_OUT ?= docs/PERFORMANCE.md
bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/ack_latency.py --out $(BENCH_OUT)
	$(BIN)/python benchmarks/ack_latency.py --api-delay-ms 100 --out $(BENCH_OUT)
	$(BIN)/python benchmarks/roster_import.py --out $(BENCH_OUT)
	$(BIN)/python benchmarks/turns.py --threads 1
	$(BIN)/python benchmarks/turns.py --threads 4
	$(BIN)/python benchmarks/tick_cost.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/survey_fanout.py
	$(BIN)/python benchmarks/crash_loop.py
	$(BIN)/python benchmarks/flood.py

clean:
	rm -rf $(VENV) growthbot.db .pytest_cache
