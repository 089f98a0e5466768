"""The three stockwatch dashboards: Market overview, Pipeline health, Operator.

Every query uses only metrics of docs/metrics.md (and `up`); `make test` evaluates each one against a
real Prometheus scraping the real processes (observability/tests/test_prometheus.py).
"""

from __future__ import annotations

from observability.grafana import Dashboard, Panel, Query, Row, query_variable

RATE = "$__rate_interval"
SYMBOLS = 'symbol=~"$symbol"'


def _quantiles(metric: str, by: str = "") -> tuple[Query, ...]:
    group = f"le{', ' + by if by else ''}"
    return tuple(
        Query(f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))", f"p{round(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    )


MARKET_OVERVIEW = Dashboard(
    uid="stockwatch-market-overview",
    title="StockWatch / Market overview",
    description="Last price, change and activity per symbol, from the producers' metrics.",
    variables=(query_variable("symbol", "Symbol", "label_values(stockwatch_last_price, symbol)"),),
    rows=(
        Row(
            "Prices",
            (
                Panel(
                    "Last price",
                    "stat",
                    (Query(f"max by (symbol) (stockwatch_last_price{{{SYMBOLS}}})", "{{symbol}}"),),
                    unit="currencyUSD",
                    decimals=2,
                    width=24,
                    height=6,
                    description="Last published price per symbol, with its sparkline over the time range.",
                ),
                Panel(
                    "Change over the time range",
                    "bargauge",
                    (
                        Query(
                            f"100 * delta(max by (symbol) (stockwatch_last_price{{{SYMBOLS}}})[$__range:])"
                            f" / max by (symbol) (stockwatch_last_price{{{SYMBOLS}}})",
                            "{{symbol}}",
                            instant=True,
                        ),
                    ),
                    unit="percent",
                    decimals=2,
                    thresholds=((0, "green"),),
                    description="Price change in percent over the dashboard's time range.",
                ),
                Panel(
                    "Price",
                    "timeseries",
                    (Query(f"max by (symbol) (stockwatch_last_price{{{SYMBOLS}}})", "{{symbol}}"),),
                    unit="currencyUSD",
                ),
            ),
        ),
        Row(
            "Activity",
            (
                Panel(
                    "Quotes published per minute",
                    "timeseries",
                    (
                        Query(
                            f"60 * sum by (symbol) (rate(stockwatch_quotes_published_total{{{SYMBOLS}}}[{RATE}]))",
                            "{{symbol}}",
                        ),
                    ),
                    unit="short",
                    stacked=True,
                ),
                Panel(
                    "Source lag",
                    "timeseries",
                    (Query(f"max by (symbol) (stockwatch_source_lag_seconds{{{SYMBOLS}}})", "{{symbol}}"),),
                    unit="s",
                    description="Now minus the event time of the symbol's last quote.",
                ),
                Panel(
                    "Rows loaded into RAW over the time range",
                    "bargauge",
                    (
                        Query(
                            f"sum by (symbol) (increase(stockwatch_loader_rows_loaded_total{{{SYMBOLS}}}[$__range]))",
                            "{{symbol}}",
                            instant=True,
                        ),
                    ),
                    unit="short",
                    decimals=0,
                    width=24,
                ),
            ),
        ),
    ),
)

PIPELINE_HEALTH = Dashboard(
    uid="stockwatch-pipeline-health",
    title="StockWatch / Pipeline health",
    description="Quotes in, rows out: produce and load rates, lag, freshness, dead letters, rate limits and errors.",
    rows=(
        Row(
            "Flow",
            (
                Panel(
                    "Events published / rows loaded per second",
                    "timeseries",
                    (
                        Query(f"sum(rate(stockwatch_quotes_published_total[{RATE}]))", "published"),
                        Query(f"sum(rate(stockwatch_loader_rows_loaded_total[{RATE}]))", "loaded"),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Quotes fetched per second by source",
                    "timeseries",
                    (Query(f"sum by (source) (rate(stockwatch_quotes_fetched_total[{RATE}]))", "{{source}}"),),
                    unit="ops",
                ),
                Panel(
                    "Consumer lag",
                    "timeseries",
                    (Query('max(stockwatch_loader_consumer_lag{job="stockwatch-loader"})', "loader lag"),),
                    unit="short",
                    thresholds=((10000, "red"),),
                    width=8,
                ),
                Panel(
                    "Freshness of RAW",
                    "stat",
                    (
                        Query(
                            'max(stockwatch_loader_freshness_seconds{job="stockwatch-loader"})', "newest event loaded"
                        ),
                    ),
                    unit="s",
                    thresholds=((300, "orange"), (900, "red")),
                    width=8,
                ),
                Panel(
                    "Time since the last loader commit",
                    "stat",
                    (
                        Query(
                            'time() - max(stockwatch_loader_last_success_timestamp_seconds{job="stockwatch-loader"})',
                            "since last commit",
                        ),
                    ),
                    unit="s",
                    thresholds=((300, "orange"), (900, "red")),
                    width=8,
                ),
            ),
        ),
        Row(
            "Latency",
            (
                Panel(
                    "Publish latency (produce to ack)",
                    "timeseries",
                    _quantiles("stockwatch_publish_latency_seconds"),
                    unit="s",
                ),
                Panel(
                    "Loader batch duration",
                    "timeseries",
                    _quantiles("stockwatch_loader_batch_duration_seconds"),
                    unit="s",
                ),
                Panel(
                    "Source lag (worst symbol)",
                    "timeseries",
                    (Query("max(stockwatch_source_lag_seconds)", "source lag"),),
                    unit="s",
                    width=24,
                ),
            ),
        ),
        Row(
            "Errors",
            (
                Panel(
                    "Loader batches by outcome",
                    "timeseries",
                    (Query(f"sum by (outcome) (rate(stockwatch_loader_batches_total[{RATE}]))", "{{outcome}}"),),
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Dead-letter messages over the time range",
                    "stat",
                    (
                        Query(
                            "sum by (reason_class) (increase(stockwatch_loader_dlq_messages_total[$__range]))",
                            "{{reason_class}}",
                            instant=True,
                        ),
                    ),
                    unit="short",
                    decimals=0,
                    thresholds=((1, "orange"), (100, "red")),
                    sparkline=False,
                    width=8,
                ),
                Panel(
                    "Events not published by reason",
                    "timeseries",
                    (Query(f"sum by (reason) (rate(stockwatch_quotes_failed_total[{RATE}]))", "{{reason}}"),),
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Finnhub calls by status",
                    "timeseries",
                    (Query(f"sum by (status) (rate(stockwatch_api_calls_total[{RATE}]))", "{{status}}"),),
                    unit="ops",
                    stacked=True,
                    width=8,
                ),
                Panel(
                    "Finnhub 429s and all-zero quotes",
                    "timeseries",
                    (
                        Query(f"sum(rate(stockwatch_api_rate_limited_total[{RATE}]))", "429 rate limited"),
                        Query(f"sum(rate(stockwatch_zero_quotes_total[{RATE}]))", "all-zero quotes"),
                    ),
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Websocket reconnects and gaps",
                    "timeseries",
                    (
                        Query(f"sum(increase(stockwatch_ws_reconnects_total[{RATE}]))", "reconnects"),
                        Query(f"sum(increase(stockwatch_ws_gaps_total[{RATE}]))", "gaps"),
                    ),
                    unit="short",
                    width=8,
                ),
                Panel(
                    "Targets up",
                    "stat",
                    (Query('sum by (job) (up{job=~"stockwatch-.*"})', "{{job}}"),),
                    unit="short",
                    decimals=0,
                    sparkline=False,
                    width=24,
                    height=4,
                ),
            ),
        ),
    ),
)

OPERATOR = Dashboard(
    uid="stockwatch-operator",
    title="StockWatch / Operator",
    description="The StockWatchlist operator: watchlists by condition, reconciles, durations and errors.",
    rows=(
        Row(
            "Watchlists",
            (
                Panel(
                    "Watchlists by condition",
                    "stat",
                    (Query("sum by (condition, status) (stockwatch_operator_watchlists)", "{{condition}}={{status}}"),),
                    unit="short",
                    decimals=0,
                    width=12,
                ),
                Panel(
                    "Producer Deployments desired vs producers up",
                    "timeseries",
                    (
                        Query("sum(stockwatch_operator_producers_desired)", "desired"),
                        Query('sum(up{job="stockwatch-producer"})', "up"),
                    ),
                    unit="short",
                    width=12,
                ),
            ),
        ),
        Row(
            "Reconciliation",
            (
                Panel(
                    "Reconciles per second by result",
                    "timeseries",
                    (Query(f"sum by (result) (rate(stockwatch_operator_reconciles_total[{RATE}]))", "{{result}}"),),
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Reconcile duration",
                    "timeseries",
                    _quantiles("stockwatch_operator_reconcile_duration_seconds"),
                    unit="s",
                    width=8,
                ),
                Panel(
                    "Errors by kind",
                    "timeseries",
                    (
                        Query(f'sum(increase(stockwatch_operator_reconciles_total{{result="error"}}[{RATE}]))', "all"),
                        Query(f"sum by (kind) (increase(stockwatch_operator_errors_total[{RATE}]))", "{{kind}}"),
                    ),
                    unit="short",
                    width=8,
                ),
            ),
        ),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (MARKET_OVERVIEW, PIPELINE_HEALTH, OPERATOR)
