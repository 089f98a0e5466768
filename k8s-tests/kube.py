"""What the cluster e2e suites share: kubectl, polling, and the rule that in CI nothing skips.

The suites talk to the cluster in $KUBECONFIG (`make e2e` points it at .scratch/kind-kubeconfig and puts the built
kubectl on PATH) only through kubectl, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip with `reason` on a laptop; fail with it in CI (CI=true), where the cluster e2e must run."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"cluster e2e cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def kubectl(
    *args: str, check: bool = True, timeout: float = 120.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kubectl")
    if binary is None:
        unavailable("kubectl is not on PATH (make e2e puts the built one there)")
    proc = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def apply(*objects: dict[str, Any]) -> None:
    """Server-side apply of the given objects."""
    kubectl(
        "apply",
        "--server-side",
        "--field-manager=e2e",
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
    )


def get_json(*args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def poll(what: str, condition: Callable[[], T | None], timeout: float, interval: float = 2.0) -> T:
    """Call `condition` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def require_cluster() -> None:
    """The cluster answers, or skip/fail (see `unavailable`) saying how to make one."""
    ready = kubectl("get", "--raw", "/readyz", check=False, timeout=15)
    if ready.returncode != 0:
        unavailable(
            f"no Kubernetes cluster reachable (KUBECONFIG={os.environ.get('KUBECONFIG', '~/.kube/config')}): "
            f"{ready.stderr.strip()[:200]}; run `make kind-up` first"
        )
