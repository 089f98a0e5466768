# Observability (issue 7): alert rules, Grafana dashboards, the metrics contract, checked with real Prometheus tools.

PROM_DEBS := prometheus prometheus-alertmanager

##@ Observability

.PHONY: prometheus-tools
prometheus-tools: ## Install Prometheus, promtool and amtool (Debian's prometheus, prometheus-alertmanager) if missing
	@if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null || ! command -v amtool >/dev/null; then \
	  echo ">> installing $(PROM_DEBS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  command -v apt-get >/dev/null || { echo "error: promtool/prometheus/amtool missing and no apt-get: install $(PROM_DEBS)" >&2; exit 1; }; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(PROM_DEBS) >/dev/null; \
	fi
	@# The Debian packages enable system services; tests start their own Prometheus and nothing needs these.
	@promtool --version 2>&1 | head -1

.PHONY: observability
observability: setup ## Regenerate the chart's PrometheusRule and dashboard ConfigMaps (and observability/dashboards/*.json)
	@$(PY) -m observability.chart

.PHONY: test-promtool
test-promtool: prometheus-tools setup ## promtool check rules + promtool test rules (firing and not firing), chart up to date
	@promtool check rules observability/rules/*.yaml
	@promtool test rules observability/tests/promtool/*.test.yaml
	@$(PY) -m observability.chart --check

.PHONY: dashboards-png
dashboards-png: setup prometheus-tools kafka-jars k8s-tools ## Render docs/dashboards/*.png from a real Prometheus scraping the real pipeline
	@STOCKWATCH_DASHBOARDS_PNG=$(CURDIR)/docs/dashboards STOCKWATCH_DASHBOARDS_SECONDS=$${STOCKWATCH_DASHBOARDS_SECONDS:-180} $(PY) -m pytest observability/tests/test_prometheus.py -k png -p no:cacheprovider

test: test-promtool
test-py: prometheus-tools

.PHONY: prometheus-local
prometheus-local: setup prometheus-tools ## Real Prometheus with the rules + links to every dashboard query. ARGS="--producer 127.0.0.1:9100 --loader 127.0.0.1:9101"
	@$(PY) -m observability.serve $(ARGS)
