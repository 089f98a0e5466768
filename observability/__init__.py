"""Observability as code: the metrics contract, alert rules, Grafana dashboards and their checks."""
