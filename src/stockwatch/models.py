"""Run the dbt project (`dbt/`) from Python: `run_dbt(["build"], settings)`.

dbt runs as a child process of the `dbt` executable installed beside this interpreter, with the
warehouse connection passed as `SNOWFLAKE_*` environment variables (the secrets only in the child's
environment, never on a command line or in a log). The `local` target is chosen for the fakesnow
server, `snowflake` otherwise. The structured outcome comes from dbt's `run_results.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockwatch.config import SnowflakeSettings

PROJECT_ENV = "STOCKWATCH_DBT_PROJECT_DIR"


def project_dir() -> Path:
    """The dbt project: `$STOCKWATCH_DBT_PROJECT_DIR` (the image sets it) or `dbt/` in the repository."""
    configured = os.environ.get(PROJECT_ENV)
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "dbt"
    if not (path / "dbt_project.yml").is_file():
        raise FileNotFoundError(f"no dbt project at {path} (set {PROJECT_ENV})")
    return path


def dbt_executable() -> str:
    exe = shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")
    if exe is None:
        raise FileNotFoundError("dbt is not installed: run `make setup` (installs the `dbt` extra)")
    return exe


def dbt_env(snowflake: SnowflakeSettings, target: str) -> dict[str, str]:
    """The variables profiles.yml reads, from the settings (secrets unwrapped for the child only)."""
    env = {"DBT_TARGET": target, "SNOWFLAKE_ACCOUNT": snowflake.account, "SNOWFLAKE_DATABASE": snowflake.database}
    optional: dict[str, object | None] = {
        "SNOWFLAKE_USER": snowflake.user,
        "SNOWFLAKE_HOST": snowflake.host or None,
        "SNOWFLAKE_PORT": snowflake.port or None,
        "SNOWFLAKE_PROTOCOL": snowflake.protocol or None,
        "SNOWFLAKE_ROLE": snowflake.role,
        "SNOWFLAKE_WAREHOUSE": snowflake.warehouse,
        "SNOWFLAKE_PRIVATE_KEY_PATH": snowflake.private_key_path,
        "SNOWFLAKE_PASSWORD": snowflake.password.get_secret_value() if snowflake.password else None,
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": (
            snowflake.private_key_passphrase.get_secret_value() if snowflake.private_key_passphrase else None
        ),
    }
    env.update({key: str(value) for key, value in optional.items() if value is not None})
    return env


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str  # success | error | pass | fail | warn | skipped
    execution_time: float
    failures: int | None
    message: str | None


@dataclass(frozen=True)
class DbtResult:
    args: list[str]
    returncode: int
    output: str
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("error", "fail")]

    def check(self) -> DbtResult:
        """Raise with dbt's output when the run failed; return self otherwise."""
        if not self.success:
            raise RuntimeError(f"dbt {' '.join(self.args)} failed ({self.returncode}):\n{self.output[-8000:]}")
        return self


def _nodes(run_results: Path) -> list[NodeResult]:
    if not run_results.is_file():
        return []
    data: dict[str, Any] = json.loads(run_results.read_text())
    return [
        NodeResult(
            unique_id=str(r["unique_id"]),
            status=str(r["status"]),
            execution_time=float(r.get("execution_time") or 0.0),
            failures=r.get("failures"),
            message=r.get("message"),
        )
        for r in data.get("results", [])
    ]


def run_dbt(
    args: Sequence[str],
    snowflake: SnowflakeSettings,
    *,
    target: str | None = None,
    target_path: Path | None = None,
    echo: bool = False,
) -> DbtResult:
    """Run `dbt <args>` on the project against `snowflake`; the result carries output and per-node status.

    `target_path` keeps the artefacts (and the partial-parse cache) of concurrent callers apart;
    `echo` streams dbt's output to this process's stdout as well.
    """
    project = project_dir()
    target = target or ("local" if snowflake.is_fakesnow else "snowflake")
    target_dir = target_path or project / "target"
    env = {
        **os.environ,
        **dbt_env(snowflake, target),
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
        "DBT_TARGET_PATH": str(target_dir),
        "DBT_LOG_PATH": str(target_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    run_results = target_dir / "run_results.json"
    run_results.unlink(missing_ok=True)
    argv = [dbt_executable(), *args]
    proc = subprocess.Popen(
        argv, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            sys.stdout.write(line)
    returncode = proc.wait()
    return DbtResult(args=list(args), returncode=returncode, output="".join(lines), nodes=_nodes(run_results))
