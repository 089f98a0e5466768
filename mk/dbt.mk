##@ Warehouse models (dbt)

DBT_DIR := $(CURDIR)/dbt

.PHONY: dbt-build
dbt-build: setup ## dbt build (models + tests) against the running warehouse in SNOWFLAKE_* (default: local fakesnow :8765). ARGS="--select marts"
	@$(VENV)/bin/stockwatch dbt build $(ARGS)

.PHONY: dbt-lint
dbt-lint: setup ## sqlfluff (Snowflake dialect) on the dbt models and singular tests
	@cd $(DBT_DIR) && $(VENV)/bin/sqlfluff lint models tests/singular analyses --disable-progress-bar --nocolor

.PHONY: dbt-fix
dbt-fix: setup ## sqlfluff fix on the dbt models and singular tests
	@cd $(DBT_DIR) && $(VENV)/bin/sqlfluff fix models tests/singular analyses --disable-progress-bar

.PHONY: test-dbt
test-dbt: setup dbt-lint ## The dbt suite only: dbt build on fakesnow, pandas cross-checks, incremental == full refresh
	@$(PY) -m pytest dbt/tests $(PYTEST_ARGS)

.PHONY: report
report: setup ## Write the HTML report from the marts in SNOWFLAKE_* to .scratch/report.html (ARGS="--text" prints the table)
	@$(VENV)/bin/stockwatch report --output $(SCRATCH)/report.html $(ARGS)

.PHONY: bench-dbt
bench-dbt: setup ## dbt bench: full refresh vs incremental after one more day (ARGS="--days 63,126,252 --events-per-bar 1,4"); JSON in bench/results/dbt.json
	@$(PY) bench/dbt_bench.py $(ARGS)

test: dbt-lint
