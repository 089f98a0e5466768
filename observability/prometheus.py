"""A real Prometheus (Debian's `prometheus` binary) for the tests, the PNG renderer and the local demo.

`LocalPrometheus(workdir, jobs, rule_files).start()` writes a config scraping the given targets every
second, starts the server on a free port and waits for `/-/ready`; `query`/`query_range` use the HTTP API.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from stockwatch.local.process import ManagedProcess, free_port


class PrometheusError(RuntimeError):
    """The HTTP API answered `status: error` (e.g. a PromQL parse error); `error_type` is Prometheus' errorType."""

    def __init__(self, error_type: str, message: str):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@dataclass(frozen=True)
class Target:
    address: str
    labels: Mapping[str, str] = field(default_factory=dict)


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        raise RuntimeError("prometheus is not installed: run `make prometheus-tools` (Debian package prometheus)")
    return path


def scrape_config(
    jobs: Mapping[str, Sequence[Target]], rule_files: Sequence[Path], interval: str = "1s"
) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [t.address], "labels": dict(t.labels)} for t in targets],
            }
            for job, targets in jobs.items()
        ],
    }


class LocalPrometheus:
    def __init__(
        self,
        workdir: Path,
        jobs: Mapping[str, Sequence[Target]],
        rule_files: Sequence[Path] = (),
        port: int | None = None,
    ):
        self.workdir = workdir
        self.port = port or free_port()
        self.config_path = workdir / "prometheus.yml"
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(scrape_config(jobs, rule_files), sort_keys=False))
        self.process = ManagedProcess(
            "prometheus",
            [
                prometheus_binary(),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1d",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
        )
        self.client = httpx.Client(base_url=self.url, timeout=10.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            return self.client.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 60.0) -> None:
        self.process.start()
        self.process.wait_ready(self._ready, timeout)

    def stop(self) -> None:
        self.process.stop()
        self.client.close()

    def api(self, path: str, **params: str | float) -> Any:
        response = self.client.get(f"/api/v1/{path}", params=params)
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusError(str(body.get("errorType")), str(body.get("error")))
        return body["data"]

    def query(self, expr: str, time: float | None = None) -> list[dict[str, Any]]:
        """Instant query: the result vector (scalars come back as one unlabeled sample)."""
        data = self.api("query", query=expr, **({"time": time} if time is not None else {}))
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.api("query_range", query=expr, start=start, end=end, step=step)
        result: list[dict[str, Any]] = data["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self.api("rules")["groups"]
        return groups
