"""airflow/requirements.lock covers what .venv-airflow must run: Airflow, the provider, stockwatch's dependencies."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = (ROOT / "airflow" / "requirements.lock").read_text()


def _locked() -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK, re.M)}


def test_every_stockwatch_dependency_is_locked() -> None:
    """After adding a dependency to pyproject.toml, run `make airflow-lock`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(spec) for spec in project["dependencies"] + project["optional-dependencies"]["local"]]
    locked = _locked()
    missing = [str(req) for req in wanted if canonicalize_name(req.name) not in locked]
    assert missing == [], f"not in airflow/requirements.lock: {missing}; run `make airflow-lock`"
    unsatisfied = [str(req) for req in wanted if not req.specifier.contains(locked[canonicalize_name(req.name)])]
    assert unsatisfied == [], f"locked versions do not satisfy {unsatisfied}; run `make airflow-lock`"


def test_the_venv_runs_the_locked_versions() -> None:
    locked = _locked()
    for name in ("apache-airflow", "apache-airflow-providers-cncf-kubernetes", "confluent-kafka", "fakesnow"):
        assert metadata.version(name) == locked[name], name


def test_lock_has_hashes() -> None:
    pins = re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+", LOCK, re.M)
    assert len(pins) == len(_locked())
