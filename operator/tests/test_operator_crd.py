"""The CRD as the real API server enforces it: bad watchlists are refused with messages that say what to fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from swl_testlib import EXAMPLES, crd, example

from stockwatch.testing.k8s import KubeAPIServer

VALID = example("seed-rest")


def mutated(spec: dict[str, Any] | None = None, *, drop: str | None = None, name: str | None = None) -> dict[str, Any]:
    manifest = copy.deepcopy(VALID)
    manifest["spec"].update(spec or {})
    if drop:
        manifest["spec"].pop(drop)
    if name:
        manifest["metadata"]["name"] = name
    return manifest


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "lower-case symbol": (mutated({"symbols": ["AAPL", "msft"]}), "symbols must be upper-case tickers"),
    "symbol with a blank": (
        mutated({"symbols": ["AAPL", "AA PL"]}),
        'spec.symbols[1]: Invalid value: "AA PL": symbols must be upper-case',
    ),
    "duplicate symbols": (mutated({"symbols": ["AAPL", "AAPL"]}), 'Duplicate value: "AAPL"'),
    "empty symbol list": (mutated({"symbols": []}), "spec.symbols in body should have at least 1 items"),
    "no symbols at all": (mutated(drop="symbols"), "spec.symbols: Required value"),
    "too many symbols": (mutated({"symbols": [f"S{i}" for i in range(501)]}), "must have at most 500 items"),
    "unknown source": (mutated({"source": "yahoo"}), 'supported values: "finnhub-rest", "finnhub-ws", "synthetic"'),
    "finnhub without a secret": (mutated(drop="apiKeySecretRef"), "need spec.apiKeySecretRef"),
    "interval zero": (mutated({"pollIntervalSeconds": 0}), "pollIntervalSeconds in body should be greater than or"),
    "interval over an hour": (mutated({"pollIntervalSeconds": 7200}), "should be less than or equal to 3600"),
    "rest faster than 30 calls/s": (
        mutated({"symbols": [f"S{i}" for i in range(45)], "pollIntervalSeconds": 1, "maxSymbolsPerProducer": 50}),
        "spec.pollIntervalSeconds must be at least the number of symbols divided by 30",
    ),
    "websocket over one producer": (
        mutated({"source": "finnhub-ws", "maxSymbolsPerProducer": 5}),
        "set spec.maxSymbolsPerProducer to at least the number of symbols",
    ),
    "zero symbols per producer": (mutated({"maxSymbolsPerProducer": 0}), "maxSymbolsPerProducer in body should be"),
    "dead-letter topic name": (mutated({"topic": {"name": "quotes_dlq"}}), "reserved for dead-letter topics"),
    "topic name with a blank": (mutated({"topic": {"name": "my topic"}}), "spec.topic.name in body should match"),
    "secret name not DNS": (mutated({"apiKeySecretRef": {"name": "Finnhub_Key"}}), "apiKeySecretRef.name in body"),
    "podmonitor interval": (
        mutated({"podMonitor": {"enabled": True, "interval": "soon"}}),
        "spec.podMonitor.interval in body should match",
    ),
    "resource quantity": (mutated({"resources": {"requests": {"cpu": "lots"}}}), "spec.resources.requests.cpu"),
    "name too long": (mutated(name="w" * 41), "metadata.name must be at most 40 characters"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_api_server_refuses_invalid_watchlist(kube_apiserver: KubeAPIServer, case: str) -> None:
    manifest, message = INVALID[case]
    proc = kube_apiserver.kubectl(
        "create", "--dry-run=server", "-n", "default", "-f", "-", input=yaml.safe_dump(manifest), check=False
    )
    assert proc.returncode != 0, f"{case}: the API server admitted it"
    assert message in proc.stderr, proc.stderr


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples_are_admitted(kube_apiserver: KubeAPIServer, path: Any) -> None:
    proc = kube_apiserver.kubectl("create", "--dry-run=server", "-n", "default", "-f", str(path), "-o", "yaml")
    admitted = yaml.safe_load(proc.stdout)
    assert admitted["spec"]["maxSymbolsPerProducer"] >= 1  # defaults applied by the API server
    assert admitted["spec"]["suspend"] is False


def test_defaults_are_applied_by_the_api_server(kube_apiserver: KubeAPIServer) -> None:
    minimal = {
        "apiVersion": "stockwatch.dev/v1alpha1",
        "kind": "StockWatchlist",
        "metadata": {"name": "minimal"},
        "spec": {"symbols": ["AAPL"], "apiKeySecretRef": {"name": "finnhub"}},
    }
    proc = kube_apiserver.kubectl(
        "create", "--dry-run=server", "-n", "default", "-f", "-", "-o", "yaml", input=yaml.safe_dump(minimal)
    )
    spec = yaml.safe_load(proc.stdout)["spec"]
    assert spec == {
        "symbols": ["AAPL"],
        "apiKeySecretRef": {"name": "finnhub", "key": "api-key"},
        "source": "finnhub-rest",
        "pollIntervalSeconds": 15,
        "maxSymbolsPerProducer": 25,
        "suspend": False,
    }


def test_crd_shape() -> None:
    definition = crd()
    assert definition["metadata"]["name"] == "stockwatchlists.stockwatch.dev"
    assert definition["spec"]["names"]["shortNames"] == ["swl"]
    assert definition["spec"]["scope"] == "Namespaced"
    version = definition["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if c.get("priority", 0) == 0]
    assert columns == ["Source", "Symbols", "Producers", "Ready", "Age"]
    symbols = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["symbols"]
    assert symbols["x-kubernetes-list-type"] == "set"
