# Every target creates .venv/ from requirements.txt (pinned name==version) when it is missing
# or older than the pins, so a fresh clone needs nothing but Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
# The Dagster instance (run history, schedules) for make ui/run/demo; tests use temporary ones.
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

.PHONY: help install lint format test test-reliability test-fast demo run ui bench sandbox \
	snowflake-smoke snowflake-emulator dashboard mcp mcp-http webhooks clean chromium

help:
	@echo "make demo   - start the Ordway sandbox, run the nightly job into DuckDB, print a summary"
	@echo "make test   - lint (ruff, sqlfluff) and the test suite (all but tests/reliability/)"
	@echo "make test-reliability - the reliability suite (tests/reliability/) and the other e2e-marked scenarios"
	@echo "make run    - run the nightly job once with the settings of .env (exit 1 on a failed run or blocking check)"
	@echo "make ui     - dagster dev with this workspace"
	@echo "make dashboard - the finance dashboard on the published marts (DASHBOARD_HOST:DASHBOARD_PORT,"
	@echo "               default http://127.0.0.1:8501), with the settings of .env"
	@echo "make mcp    - the MCP server for agents on stdio (read-only, published marts; see README)"
	@echo "make webhooks - the Ordway webhook receiver (WEBHOOK_HOST:WEBHOOK_PORT, default"
	@echo "               http://127.0.0.1:8780/ordway/webhooks; needs WEBHOOK_SECRET), settings of .env"
	@echo "make mcp-http - the same over streamable HTTP (MCP_HTTP_HOST:MCP_HTTP_PORT/mcp)"
	@echo "make bench  - the performance benchmark (see README)"
	@echo "make sandbox - serve a generated tenant on 127.0.0.1:8765 until Ctrl-C"
	@echo "make snowflake-smoke - load, build and compare a small tenant in a scratch database of your"
	@echo "               Snowflake account (SNOWFLAKE_* settings), then drop it"
	@echo "make snowflake-emulator - the local Snowflake emulator (tests) on 127.0.0.1:8766 until Ctrl-C"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV)/ (first run: a few minutes)..."
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m scripts.dbt_prepare
	cd dbt_project && ../$(BIN)/sqlfluff lint models macros tests analyses --processes 2

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The reliability suite (tests/reliability/: real Dagster runs killed, raced and scanned; a week
# of nightly runs) and the longest end-to-end scenarios elsewhere (marked `e2e`: the Dagster UI in
# chromium, every account profile, webhooks to marts) take as long as everything else together,
# so they have their own target; CI runs both.
test: lint chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/reliability -m "not e2e"

# Debian's chromium for the browser tests (the dashboard; the Dagster UI, e2e). Skipped when
# /usr/bin/chromium exists; otherwise installed with apt-get (root, as in CI).
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

test-reliability: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile -m e2e

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

demo: $(STAMP)
	$(BIN)/python -m scripts.demo

# Both read .env in the project root (a value there wins over the shell's): make run through
# --env-file (python-dotenv), make ui because dagster dev loads .env from its working directory.
run: $(STAMP)
	$(BIN)/python -m scripts.run_nightly --env-file .env

ui: $(STAMP)
	$(BIN)/dagster dev -w workspace.yaml

# The finance apps read only the published marts (DUCKDB_PUBLISHED_PATH), with the .env of
# make run. `make mcp` speaks MCP on stdout, so its command is not echoed (use `make -s mcp`).
dashboard: $(STAMP)
	$(BIN)/python -m apps.dashboard --env-file .env

# The webhook receiver next to Dagster (README "Near real time (webhooks)").
webhooks: $(STAMP)
	$(BIN)/python -m pipelines.webhooks --env-file .env

mcp: $(STAMP)
	@$(BIN)/python -m apps.mcp_server --env-file .env

mcp-http: $(STAMP)
	$(BIN)/python -m apps.mcp_server --env-file .env --transport http

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

sandbox: $(STAMP)
	$(BIN)/python -m ordway_sandbox serve --port 8765 --customers 200 --seed 42

snowflake-smoke: $(STAMP)
	$(BIN)/python -m scripts.snowflake_smoke

snowflake-emulator: $(STAMP)
	$(BIN)/python -m tests.support.snowflake_emulator --port 8766

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache .ruff_cache test-output
