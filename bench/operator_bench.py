"""Operator bench: how fast watchlists become producer Deployments, on a real kube-apiserver + etcd.

For 1, 100 and 500 watchlists (synthetic source, five symbols -> one producer Deployment each) applied in
one `kubectl apply`: the time until every Deployment exists and every status is reconciled, the reconcile
p50/p95 from the operator's own histogram, and the operator's RSS. "single" also applies one watchlist at a
time, 20 times, and reports the end-to-end p50/p95 (apply -> Deployment exists). Prints a table and writes
bench/results/operator.json. Targets: 500 converge in <= 60 s, single p95 <= 1 s.

    .venv/bin/python bench/operator_bench.py [--sizes 1 100 500] [--single-runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator" / "tests"))

from swl_operator import OperatorProcess  # noqa: E402

from stockwatch.testing.k8s import KubeAPIServer, default_crd_files  # noqa: E402

TARGET_CONVERGE_500_S = 60.0
TARGET_SINGLE_P95_S = 1.0
BUCKET = re.compile(r'^stockwatch_operator_reconcile_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def watchlist(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "stockwatch.dev/v1alpha1",
        "kind": "StockWatchlist",
        "metadata": {"name": name},
        "spec": {"source": "synthetic", "symbols": ["AAPL", "MSFT", "NVDA", "AMZN", "META"], "pollIntervalSeconds": 5},
    }


def buckets(metrics: str) -> list[tuple[float, float]]:
    return [(float(le), float(count)) for le, count in BUCKET.findall(metrics)]


def quantile(q: float, cumulative: list[tuple[float, float]]) -> float:
    """histogram_quantile(): linear interpolation inside the bucket holding the q-th observation."""
    total = cumulative[-1][1]
    if total == 0:
        return 0.0
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / max(count - lower_count, 1e-9)
        lower_bound, lower_count = bound, count
    return lower_bound


def rss_mib(pid: int) -> float:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def count_deployments(api: KubeAPIServer, namespace: str) -> int:
    out = api.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout
    return len(out.split())


def count_reconciled(api: KubeAPIServer, namespace: str) -> int:
    out = api.kubectl(
        "get", "swl", "-n", namespace, "-o", "jsonpath={range .items[*]}{.status.observedGeneration}{'\\n'}{end}"
    ).stdout
    return sum(1 for line in out.splitlines() if line.strip() == "1")


def poll(check: Any, want: int, timeout: float) -> float:
    started = time.monotonic()
    while check() < want:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not converged after {timeout:.0f}s")
        time.sleep(0.05)
    return time.monotonic() - started


def run_size(api: KubeAPIServer, workdir: Path, size: int, timeout: float) -> dict[str, Any]:
    namespace = f"bench-{size}"
    api.kubectl("create", "namespace", namespace)
    operator = OperatorProcess(api.kubeconfig, workdir / f"operator-{size}.log", namespaces=[namespace])
    operator.start()
    try:
        before = buckets(operator.metrics())
        manifest = {"apiVersion": "v1", "kind": "List", "items": [watchlist(f"wl-{i:04d}") for i in range(size)]}
        started = time.monotonic()
        api.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(manifest), timeout=timeout)
        poll(lambda: count_deployments(api, namespace), size, timeout)
        deployments_s = time.monotonic() - started
        poll(lambda: count_reconciled(api, namespace), size, timeout)
        reconciled_s = time.monotonic() - started
        after = buckets(operator.metrics())
        delta = [(le, count - old) for (le, count), (_, old) in zip(after, before, strict=True)]
        return {
            "watchlists": size,
            "deployments_exist_s": round(deployments_s, 2),
            "all_reconciled_s": round(reconciled_s, 2),
            "reconcile_p50_s": round(quantile(0.5, delta), 3),
            "reconcile_p95_s": round(quantile(0.95, delta), 3),
            "reconciles": int(delta[-1][1]),
            "operator_rss_mib": round(rss_mib(operator.pid), 1),
        }
    finally:
        operator.stop()


def run_single(api: KubeAPIServer, workdir: Path, runs: int, timeout: float) -> dict[str, Any]:
    """One watchlist at a time: apply -> its Deployment exists, end to end."""
    namespace = "bench-single"
    api.kubectl("create", "namespace", namespace)
    operator = OperatorProcess(api.kubeconfig, workdir / "operator-single.log", namespaces=[namespace])
    operator.start()
    latencies: list[float] = []
    try:
        for i in range(runs):
            started = time.monotonic()
            api.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(watchlist(f"one-{i:03d}")))
            poll(lambda: count_deployments(api, namespace), i + 1, timeout)
            latencies.append(time.monotonic() - started)
        ordered = sorted(latencies)
        return {
            "runs": runs,
            "apply_to_deployment_p50_s": round(statistics.median(ordered), 3),
            "apply_to_deployment_p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
            "operator_rss_mib": round(rss_mib(operator.pid), 1),
        }
    finally:
        operator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 500])
    parser.add_argument("--single-runs", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "operator.json")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="operator-bench-"))
    api = KubeAPIServer(workdir / "k8s")
    api.start()
    try:
        api.install_crds(default_crd_files())
        single = run_single(api, workdir, args.single_runs, args.timeout)
        sizes = [run_size(api, workdir, size, args.timeout) for size in args.sizes]
        api_rss = {k: round(v / 1024, 1) for k, v in api.rss_kib().items()}
    finally:
        api.stop()

    biggest = max(sizes, key=lambda r: r["watchlists"]) if sizes else None
    result = {
        "machine": {"python": platform.python_version(), "cpus": len(os.sched_getaffinity(0))},
        "notes": "real kube-apiserver + etcd, no kube-controller-manager (no ReplicaSets/Pods); one Deployment "
        "per watchlist; operator namespace-scoped, standalone, default 60 s repair interval",
        "single": single,
        "sizes": sizes,
        "control_plane_rss_mib": api_rss,
        "targets": {
            "converge_500_s": TARGET_CONVERGE_500_S,
            "single_p95_s": TARGET_SINGLE_P95_S,
            "converge_met": bool(biggest and biggest["all_reconciled_s"] <= TARGET_CONVERGE_500_S),
            "single_p95_met": single["apply_to_deployment_p95_s"] <= TARGET_SINGLE_P95_S,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")

    print("| watchlists | Deployments exist (s) | all reconciled (s) | reconcile p50 / p95 (s) | operator RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|")
    for row in sizes:
        print(
            f"| {row['watchlists']} | {row['deployments_exist_s']} | {row['all_reconciled_s']} | "
            f"{row['reconcile_p50_s']} / {row['reconcile_p95_s']} | {row['operator_rss_mib']} |"
        )
    print(
        f"\nsingle watchlist, apply -> Deployment, {single['runs']} runs: p50 {single['apply_to_deployment_p50_s']} s, "
        f"p95 {single['apply_to_deployment_p95_s']} s (target <= {TARGET_SINGLE_P95_S} s)"
    )
    print(f"targets met: {result['targets']}; JSON: {args.output}")


if __name__ == "__main__":
    main()
