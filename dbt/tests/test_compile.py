"""The same project compiles for real Snowflake: target `snowflake` (env vars only), none of the
fakesnow adaptations in the compiled SQL, and every compiled model parses as Snowflake SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from dbt_warehouse import Warehouse

from stockwatch.config import SnowflakeSettings
from stockwatch.models import run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.kafka, pytest.mark.slow]

PLACEHOLDER = "not-a-secret"  # the `snowflake` profile needs a credential; the fakesnow server ignores it


def test_compiles_for_snowflake(built_warehouse: Warehouse, tmp_path: Path) -> None:
    # A non-fakesnow account reached through the fakesnow server (host/port/protocol are the
    # private-connectivity settings of the `snowflake` profile): dbt introspects the built tables,
    # so the incremental branches compile too; the account name switches every adaptation off.
    local = built_warehouse.settings
    settings = SnowflakeSettings(
        account="xy12345",
        user="ci",
        password=PLACEHOLDER,
        database=local.database,
        host=local.host,
        port=local.port,
        protocol="http",
    )
    result = run_dbt(["compile"], settings, target="snowflake", target_path=tmp_path)
    result.check()
    compiled = tmp_path / "compiled" / "stockwatch" / "models"
    models = sorted(p for p in compiled.rglob("*.sql") if p.parent.name != "_unit_tests.yml")
    assert {p.stem for p in models} >= {"stg_finnhub__quotes", "int_minute_bars", "fct_daily_prices", "dim_symbols"}
    for path in models:
        sql = path.read_text()
        assert "read_parquet" not in sql
        sqlglot.parse_one(sql, read="snowflake")  # raises on anything Snowflake would not parse
    fct = (compiled / "marts" / "fct_daily_prices.sql").read_text()
    assert f"{local.database}.MARTS_STOCKS.fct_daily_prices" in fct  # incremental branch, fully qualified


def test_the_production_build_selects_no_unit_tests(
    built_warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the dbt image and the chart's CronJob set: `dbt build` selects models and data tests only.
    def listed(exclude: str | None) -> dict[str, set[str]]:
        if exclude is None:
            monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
        else:
            monkeypatch.setenv("DBT_EXCLUDE_RESOURCE_TYPES", exclude)
        args = ["ls", "--quiet", "--output", "json", "--output-keys", "resource_type", "name"]
        nodes: dict[str, set[str]] = {}
        for line in run_dbt(args, built_warehouse.settings, target_path=tmp_path).check().output.splitlines():
            if line.startswith("{"):
                node = json.loads(line)
                nodes.setdefault(node["resource_type"], set()).add(node["name"])
        return nodes

    everything, production = listed(None), listed("unit_test")
    assert len(everything["unit_test"]) == 8
    assert "unit_test" not in production
    assert production["model"] == everything["model"] and production["test"] == everything["test"]


def test_the_snowflake_target_runs_on_the_local_warehouse(built_warehouse: Warehouse, tmp_path: Path) -> None:
    # The chart's dbt CronJob with `localWarehouse`: the image's `--target snowflake`, account `fakesnow`, the
    # placeholder user and password the chart sets, the warehouse Service's host and port over http.
    local = built_warehouse.settings
    settings = SnowflakeSettings(
        account="fakesnow",
        user="stockwatch",
        password="fakesnow",  # the chart's placeholder; the local warehouse checks none
        database=local.database,
        host=local.host,
        port=local.port,
        protocol="http",
    )
    result = run_dbt(["run", "--select", "stg_finnhub__events"], settings, target="snowflake", target_path=tmp_path)
    assert [n.status for n in result.check().nodes] == ["success", "success"]  # the on-run-start hook and the view
