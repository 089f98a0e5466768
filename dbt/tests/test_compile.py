"""The same project compiles for real Snowflake: target `snowflake` (env vars only), none of the
fakesnow adaptations in the compiled SQL, and every compiled model parses as Snowflake SQL."""

from __future__ import annotations

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
