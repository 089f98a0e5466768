"""The stockwatch operator: `StockWatchlist` custom resources (stockwatch.dev/v1alpha1) -> producer Deployments."""

GROUP = "stockwatch.dev"
VERSION = "v1alpha1"
PLURAL = "stockwatchlists"
KIND = "StockWatchlist"
FIELD_MANAGER = "stockwatch-operator"
