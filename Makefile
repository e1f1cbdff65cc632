# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= M
SEED ?= 42
PORT ?= 8765
DASHBOARD_PORT ?= 8501

# Telemetry off everywhere (docs/architecture.md); one variable names the DuckDB file for dbt and Dagster.
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export SODA_CORE_TELEMETRY_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export REVOPS_DUCKDB_PATH ?= $(CURDIR)/data/warehouse.duckdb
export REVOPS_WORLD_DIR ?= $(CURDIR)/data/world
# The sandbox CRM accepts this token; a real portal's private-app token comes from your environment.
export HUBSPOT_TOKEN ?= sandbox-local-token

.PHONY: demo test test-spark install manifest world serve dashboard screenshots browser bench bench-identity bench-sync bench-l bench-latency bench-engines dev docs clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv>=0.5,<1"

$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --python $(BIN)/python
	touch $@

install: $(VENV)/.installed

# dbt's manifest, which Dagster reads instead of parsing dbt at import time; parsed again only when the project
# changed (CI runs `make test` and `make test-spark` side by side: two parses at once would write one target folder)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds analyses -type f 2>/dev/null) \
    dbt_project/dbt_project.yml dbt_project/profiles.yml
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet

manifest: $(MANIFEST)

world: install
	$(BIN)/revops sandbox generate --scale $(SCALE) --seed $(SEED) --out $(REVOPS_WORLD_DIR)

demo: world manifest
	@mkdir -p data
	@# a previous demo's server holds the port and its URL file would fool the readiness wait
	@if [ -f data/crm_server.pid ]; then kill $$(cat data/crm_server.pid) 2>/dev/null || true; sleep 1; fi
	@rm -f data/crm_server.url data/crm_server.pid
	@# the sandbox CRM keeps what earlier syncs wrote for as long as the warehouse that remembers them exists: a
	@# fresh warehouse starts from a freshly seeded CRM, a re-run continues with both
	@$(BIN)/revops sandbox serve --world $(REVOPS_WORLD_DIR) --port $(PORT) \
	    $$([ -f $(REVOPS_DUCKDB_PATH) ] || echo --reseed) \
	    --ready-file data/crm_server.url > data/crm_server.log 2>&1 & echo $$! > data/crm_server.pid
	@for i in $$(seq 1 120); do [ -s data/crm_server.url ] && break; sleep 1; done
	@[ -s data/crm_server.url ] || (echo "CRM server did not start: see data/crm_server.log"; exit 1)
	HUBSPOT_BASE_URL=$$(cat data/crm_server.url) $(BIN)/revops land --landing-dir $(REVOPS_WORLD_DIR)/landing \
	    --duckdb $(REVOPS_DUCKDB_PATH)
	$(BIN)/revops check --layer raw
	$(BIN)/revops build --changed
	$(BIN)/revops eval identity
	$(BIN)/revops eval scoring
	$(BIN)/revops kpis
	HUBSPOT_BASE_URL=$$(cat data/crm_server.url) $(BIN)/revops sync --duckdb $(REVOPS_DUCKDB_PATH)
	@# alerts are recorded in ops.alerts once per event and posted when REVOPS_ALERT_WEBHOOK_URL is set
	$(BIN)/revops alerts --duckdb $(REVOPS_DUCKDB_PATH) $$([ -n "$$REVOPS_ALERT_WEBHOOK_URL" ] || echo --record-only)
	@# the dashboard reads the snapshot the build and the sync published: it runs on beside the pipeline
	@if [ -f data/dashboard.pid ]; then kill $$(cat data/dashboard.pid) 2>/dev/null || true; sleep 1; fi
	@$(BIN)/python -m dashboard --port $(DASHBOARD_PORT) > data/dashboard.log 2>&1 & echo $$! > data/dashboard.pid
	@for i in $$(seq 1 60); do curl -sf http://127.0.0.1:$(DASHBOARD_PORT)/_stcore/health > /dev/null && break; sleep 1; done
	@echo
	@echo "Dashboard:  http://127.0.0.1:$(DASHBOARD_PORT)  (pid $$(cat data/dashboard.pid); stop: kill \$$(cat data/dashboard.pid); or make dashboard)"
	@echo "CRM server (HubSpot-compatible): $$(cat data/crm_server.url)  (pid $$(cat data/crm_server.pid); stop: kill \$$(cat data/crm_server.pid))"
	@echo "World:      $(REVOPS_WORLD_DIR)  (truth in $(REVOPS_WORLD_DIR)/truth)"
	@echo "Warehouse:  $(REVOPS_DUCKDB_PATH)  (raw.*, raw.quarantine, raw.landing_manifest; staging views;"
	@echo "            dim_person, dim_account, bridge_person_identifier, fct_identity_edges; fct_signals,"
	@echo "            fct_lead_scores, mart_stage_map (next action per person); KPI marts: mart_revops_kpis,"
	@echo "            fct_speed_to_lead, fct_double_touches, dim_sending_domain_status, fct_signal_attribution ...)"
	@echo "Analyses:   analyses/README.md (ready SQL: signals before won deals, owners missing the SLA, collisions, suppressions)"
	@echo "dbt docs:   make docs   (http://127.0.0.1:8080; static file dbt_project/target/static_index.html)"
	@echo "Dagster UI: make dev    (dagster dev on dagster_project/definitions.py: assets, checks, schedules, sensors)"

serve: install
	$(BIN)/revops sandbox serve --world $(REVOPS_WORLD_DIR) --port $(PORT)

# Debian's Chromium for the dashboard's browser tests (Playwright drives /usr/bin/chromium; never `playwright install`)
browser:
	@[ -x /usr/bin/chromium ] || (apt-get install -y -q chromium > /dev/null 2>&1 || (apt-get update -q > /dev/null && \
	    apt-get install -y -q chromium > /dev/null)) || (echo "could not install chromium (apt-get install chromium)"; exit 1)

test: install manifest browser
	$(BIN)/pytest -q -m "not spark"

# the same project on Spark (REVOPS_ENGINE=spark, tests/test_spark_engine.py): the S world built on both engines,
# every mart and sync model compared, kill -9 of a Spark publish and of a sync; a local JVM (Debian's Java 17)
test-spark: install manifest
	@command -v java > /dev/null || (apt-get install -y -q openjdk-17-jre-headless > /dev/null 2>&1 || \
	    (apt-get update -q > /dev/null && apt-get install -y -q openjdk-17-jre-headless > /dev/null)) || \
	    (echo "could not install Java 17 (apt-get install openjdk-17-jre-headless)"; exit 1)
	$(BIN)/pytest -q -m spark tests/test_spark_engine.py

# Long benchmarks: not part of `make test`
bench: install
	$(BIN)/python -m sandbox.world.bench --scales S M
	$(BIN)/python -m revops.landing.bench --scale M

# identity resolution on the demo's M warehouse, and the Splink peer on the same data (own venv, DuckDB < 2)
bench-identity: install manifest
	@[ -f $(REVOPS_DUCKDB_PATH) ] || (echo "no warehouse at $(REVOPS_DUCKDB_PATH): run make demo first"; exit 1)
	$(BIN)/python -m revops.evaluation.identity_bench
	MAIN_PYTHON=$(BIN)/python benchmarks/splink/run.sh $(REVOPS_DUCKDB_PATH) $(REVOPS_WORLD_DIR)

# reverse-ETL throughput into a fresh sandbox CRM (default rate limit) from the demo's M warehouse
bench-sync: install
	@[ -f $(REVOPS_DUCKDB_PATH) ] || (echo "no warehouse at $(REVOPS_DUCKDB_PATH): run make demo first"; exit 1)
	$(BIN)/python -m reverse_etl.bench

# the L world end to end (revops/e2e_bench.py): generate (or reuse BENCH_WORLD), land the files but the last day, extract
# the CRM from the sandbox, full build, one new day, a run with nothing new; time and peak memory per step, a table
# on stdout and in bench_results/e2e_$(BENCH_SCALE).json. ~20 GB of world and a warehouse in BENCH_DIR; ~1 h
BENCH_SCALE ?= L
BENCH_DIR ?= /tmp/bench_l
BENCH_WORLD ?= $(BENCH_DIR)/world_$(BENCH_SCALE)
bench-l: install manifest
	$(BIN)/python -m revops.e2e_bench --scale $(BENCH_SCALE) --seed $(SEED) --world $(BENCH_WORLD) \
	    --workdir $(BENCH_DIR) --out bench_results/e2e_$(BENCH_SCALE).json

# a demo request's latency through the Dagster fast lane (revops/latency_bench.py): on M in steady state (land, build,
# sync; dagster-daemon with the sensors fast_lane_on_new_files and build_when_data_changed), one new Segment file with
# 20 Demo Requested events for known people, each timed until its call task is in the sandbox CRM; p50/p95 (target p95
# <= 60 s), the Dagster runs' steps and dbt models, in bench_results/latency_M.json. ~15 min, in LATENCY_DIR
LATENCY_WORLD ?= /tmp/worlds/m
LATENCY_DIR ?= /tmp/bench_latency
bench-latency: install manifest
	$(BIN)/python -m revops.latency_bench --scale M --seed $(SEED) --world $(LATENCY_WORLD) --workdir $(LATENCY_DIR) \
	    --out bench_results/latency_M.json

# both engines side by side (revops/engine_bench.py): land, build, sync and kpis of the S and the M world on DuckDB,
# then on Spark (REVOPS_ENGINE=spark), time and peak memory per step, and the marts compared; bench_results/engines_*.json
ENGINES_DIR ?= /tmp/bench_engines
bench-engines: install manifest
	$(BIN)/python -m revops.engine_bench --scale S --seed $(SEED) --workdir $(ENGINES_DIR) --out bench_results/engines_S.json
	$(BIN)/python -m revops.engine_bench --scale M --seed $(SEED) --workdir $(ENGINES_DIR) --out bench_results/engines_M.json

# The RevOps dashboard on the newest marts snapshot (published by every build and sync) at http://127.0.0.1:8501:
# `python -m dashboard` binds 127.0.0.1 with usage statistics off from any directory (dashboard/launch.py)
dashboard: install
	$(BIN)/python -m dashboard --port $(DASHBOARD_PORT)

# every page of the running dashboard (make demo / make dashboard) as a PNG in docs/dashboard/
screenshots: install browser
	$(BIN)/python -m dashboard.browser --url http://127.0.0.1:$(DASHBOARD_PORT) --out docs/dashboard

# dbt docs of the demo warehouse (models, columns, grains, lineage) at http://127.0.0.1:8080, and as one static
# file, dbt_project/target/static_index.html, that opens without a server
docs: install
	cd dbt_project && ../$(BIN)/dbt docs generate --static --profiles-dir . && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080 --no-browser

dev: install manifest
	$(BIN)/dagster dev -m dagster_project.definitions

clean:
	rm -rf data dbt_project/target dbt_project/logs
