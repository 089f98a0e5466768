"""images/airflow/Dockerfile stays in step with the lock, bakes the DAGs in and ends non-root."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "images" / "airflow" / "Dockerfile").read_text()


def _locked(name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)", (ROOT / "airflow" / "requirements.lock").read_text(), re.M)
    assert match, f"{name} is not in airflow/requirements.lock"
    return match.group(1)


def test_base_image_is_the_locked_airflow_on_python_311() -> None:
    import airflow

    assert re.search(rf"^ARG AIRFLOW_VERSION={re.escape(_locked('apache-airflow'))}$", DOCKERFILE, re.M)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", DOCKERFILE, re.M)
    # The official image unless the build passes another AIRFLOW_BASE (the offline stand-in).
    official = r"apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}"
    assert re.search(rf"^ARG AIRFLOW_BASE={official}$", DOCKERFILE, re.M)
    assert re.search(r"^FROM \$\{AIRFLOW_BASE\}$", DOCKERFILE, re.M)
    assert airflow.__version__ == _locked("apache-airflow"), "the test venv runs the Airflow the image ships"


def test_dags_baked_in_and_non_root() -> None:
    assert "COPY --chown=airflow:0 airflow/dags /opt/airflow/dags" in DOCKERFILE
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users, "the image sets its user"
    assert users[-1] not in ("root", "0")


def test_build_context_keeps_what_the_image_copies() -> None:
    ignore = (ROOT / "images" / "airflow" / "Dockerfile.dockerignore").read_text().split()
    for source in re.findall(r"^COPY --chown=\S+ (.+) \S+$", DOCKERFILE, re.M):
        for path in source.split():
            assert f"!{path}" in ignore or f"!{path}/" in ignore, path
