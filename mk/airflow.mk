##@ Airflow (the ingestion DAG on Airflow 3, separate venv .venv-airflow)

AIRFLOW_VENV := $(CURDIR)/.venv-airflow
AIRFLOW_PY := $(AIRFLOW_VENV)/bin/python

.PHONY: airflow-venv
airflow-venv: ## Create/update .venv-airflow (Airflow 3 + cncf-kubernetes + stockwatch) from airflow/requirements.lock
	@bash scripts/airflow-venv.sh

.PHONY: airflow-lock
airflow-lock: ## Re-resolve airflow/requirements.lock from airflow/requirements.in (stockwatch deps held at uv.lock)
	@bash scripts/airflow-venv.sh --lock

.PHONY: lint-airflow
lint-airflow: airflow-venv ## mypy --strict on the DAGs and their tests, with Airflow's own types
	@MYPYPATH=src:airflow/dags:airflow/tests $(AIRFLOW_VENV)/bin/mypy --strict airflow/dags airflow/tests airflow/local_run.py

.PHONY: test-airflow
test-airflow: airflow-venv kafka-jars lint-airflow ## DAG tests: DagBag/policy, pod template, real dag.test() runs on Kafka + fakesnow
	@$(AIRFLOW_PY) -m pytest airflow/tests $(PYTEST_ARGS)

.PHONY: airflow-dag-test
airflow-dag-test: airflow-venv kafka-jars ## Run the ingestion DAG once locally (own Kafka + fakesnow + SQLite; ARGS="--events 500")
	@$(AIRFLOW_PY) airflow/local_run.py --workdir $(SCRATCH)/airflow $(ARGS)

# `make test` runs the Airflow suite too (its own venv; the real Kafka broker, fakesnow and helm).
test: test-airflow
