"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME with a SQLite metadata DB, set before Airflow is imported.

Run in `.venv-airflow` with the session fixtures of `stockwatch.testing.plugin` (the real Kafka broker and
the fakesnow server): `make test-airflow`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[1] / "dags"
DAG_ID = "stock_data_ingestion_snowflake"

_HOME = Path(tempfile.mkdtemp(prefix="stockwatch-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ.update(
    AIRFLOW_HOME=str(_HOME),
    AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{_HOME}/airflow.db",
    # Retries are the DAG's; waiting 30 s and more between them is not the tests' business.
    STOCKWATCH_INGESTION_RETRY_DELAY_SECONDS="1",
)
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata DB, migrated by the real `airflow db migrate`."""
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert out.returncode == 0, f"airflow db migrate failed:\n{out.stdout}\n{out.stderr}"
    return _HOME / "airflow.db"


@pytest.fixture(scope="session")
def dagbag() -> DagBag:
    """Every DAG file of airflow/dags, parsed as the DAG processor parses them."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No KAFKA_* / SNOWFLAKE_* / STOCKWATCH_FAULT_* from the caller's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith(("KAFKA_", "SNOWFLAKE_", "STOCKWATCH_FAULT_", "AIRFLOW_CONN_STOCKWATCH_")):
            monkeypatch.delenv(key)
    return monkeypatch
