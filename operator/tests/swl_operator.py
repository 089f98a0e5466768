"""Run the operator as a child process against a kubeconfig (the integration tests and the bench).

`python -m kopf run -m stockwatch_operator.main ...` exactly as the container runs it, with its log in a file
and readiness taken from kopf's liveness endpoint.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from stockwatch.local.process import ManagedProcess, free_port


class OperatorProcess(ManagedProcess):
    """One operator process; `namespaces=None` watches all namespaces; `peering=None` runs standalone."""

    def __init__(
        self,
        kubeconfig: Path,
        log_path: Path,
        *,
        namespaces: Sequence[str] | None = None,
        peering: str | None = None,
        env: Mapping[str, str] | None = None,
    ):
        self.kubeconfig = kubeconfig
        self.namespaces = list(namespaces or [])
        self.peering = peering
        self.extra_env = dict(env or {})
        self.metrics_port = free_port()
        self.liveness_port = free_port()
        super().__init__("stockwatch-operator", self.command(), log_path)

    def command(self) -> list[str]:
        scope = [f"--namespace={ns}" for ns in self.namespaces] or ["--all-namespaces"]
        peering = [f"--peering={self.peering}"] if self.peering else ["--standalone"]
        liveness = f"--liveness=http://127.0.0.1:{self.liveness_port}/healthz"
        return [sys.executable, "-m", "kopf", "run", "-m", "stockwatch_operator.main", *scope, *peering, liveness]

    def start(self, timeout: float = 60.0) -> None:
        self.env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "STOCKWATCH_OPERATOR_METRICS_PORT": str(self.metrics_port),
            **self.extra_env,
        }
        super().start()
        self.wait_ready(self.alive, timeout)

    def _get(self, port: int, path: str) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                body: bytes = response.read()
                return body.decode()
        except OSError:
            return None

    def alive(self) -> bool:
        return self._get(self.liveness_port, "/healthz") is not None

    def metrics(self) -> str:
        text = self._get(self.metrics_port, "/metrics")
        if text is None:
            raise RuntimeError(f"the operator's /metrics on :{self.metrics_port} does not answer")
        return text

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the operator is not running")
        return self.proc.pid

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
