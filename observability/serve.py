"""Start a real Prometheus (Debian's) next to a local run, with the alert rules loaded and every dashboard
query one click away (Grafana is not needed to look at them).

    python -m observability.serve --producer 127.0.0.1:9100 --loader 127.0.0.1:9101 [--operator 127.0.0.1:8080]

`stockwatch demo` prints the metrics ports to pass here; `make prometheus-local ARGS="..."` runs it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

from observability.chart import rule_files
from observability.dashboards import DASHBOARDS
from observability.prometheus import LocalPrometheus, Target
from observability.promql import fill_variables


def graph_url(base: str, expr: str, range_input: str = "15m") -> str:
    return f"{base}/graph?" + urlencode({"g0.expr": expr, "g0.tab": "0", "g0.range_input": range_input})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for component in ("producer", "loader", "operator"):
        parser.add_argument(f"--{component}", action="append", default=[], help="host:port of its /metrics")
    parser.add_argument("--port", type=int, default=9090, help="Prometheus web port (default 9090)")
    parser.add_argument("--workdir", type=Path, default=None, help="Prometheus data dir (default: a temp dir)")
    args = parser.parse_args(argv)
    jobs = {
        f"stockwatch-{component}": [
            Target(address, {"namespace": "local", "pod": f"{component}-{i}", "watchlist": "local"})
            for i, address in enumerate(getattr(args, component))
        ]
        for component in ("producer", "loader", "operator")
        if getattr(args, component)
    }
    if not jobs:
        parser.error("give at least one of --producer, --loader, --operator")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="stockwatch-prometheus-"))
    prometheus = LocalPrometheus(workdir, jobs, rule_files(), port=args.port)
    prometheus.start()
    print(f"Prometheus {prometheus.url} (config {prometheus.config_path}); alerts: {prometheus.url}/alerts")
    for dashboard in DASHBOARDS:
        print(f"\n{dashboard.title}")
        for panel in dashboard.panels():
            for query in panel.queries:
                print(f"  {panel.title}: {graph_url(prometheus.url, fill_variables(query.expr))}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("\nCtrl-C stops Prometheus.")
    stop.wait()
    prometheus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
