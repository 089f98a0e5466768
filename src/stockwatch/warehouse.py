"""The warehouse side: connection, idempotent set-up of STOCKS_FIN, and the shapes of the RAW tables.

`init_warehouse` creates the database, the four schemas, `RAW_STOCKS.STOCK_PRICES` and
`RAW_STOCKS.DAILY_PRICES` if missing;
it is safe to run on every start. The same SQL runs on Snowflake and on the fakesnow server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import snowflake.connector

from stockwatch.config import (
    INTERMEDIATE_SCHEMA,
    MARTS_SCHEMA,
    RAW_SCHEMA,
    STAGING_SCHEMA,
    SnowflakeSettings,
)

# Column order is the load order (see loader.write). One row per event, unique on EVENT_ID.
RAW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("EVENT_ID", "VARCHAR(32) NOT NULL"),
    ("SCHEMA_VERSION", "NUMBER(4,0) NOT NULL"),
    ("EVENT_TYPE", "VARCHAR(16) NOT NULL"),
    ("SYMBOL", "VARCHAR(32) NOT NULL"),
    ("PRICE", "FLOAT NOT NULL"),
    ("CHANGE", "FLOAT"),
    ("CHANGE_PCT", "FLOAT"),
    ("DAY_OPEN", "FLOAT"),
    ("DAY_HIGH", "FLOAT"),
    ("DAY_LOW", "FLOAT"),
    ("PREV_CLOSE", "FLOAT"),
    ("VOLUME", "FLOAT"),
    ("CONDITIONS", "VARCHAR"),  # JSON array text, e.g. '["1","12"]'
    ("EVENT_TIME", "TIMESTAMP_NTZ NOT NULL"),  # UTC
    ("INGEST_TIME", "TIMESTAMP_NTZ NOT NULL"),  # UTC
    ("SOURCE", "VARCHAR(16) NOT NULL"),
    ("KAFKA_TOPIC", "VARCHAR(255)"),
    ("KAFKA_PARTITION", "NUMBER(9,0)"),
    ("KAFKA_OFFSET", "NUMBER(19,0)"),
    ("LOADED_AT", "TIMESTAMP_NTZ NOT NULL"),  # UTC, when the loader merged the row
)
RAW_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in RAW_COLUMNS)

# Daily history (`stockwatch backfill`): one row per symbol and trading day.
DAILY_TABLE = "DAILY_PRICES"
DAILY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("SYMBOL", "VARCHAR(32) NOT NULL"),
    ("TRADE_DATE", "DATE NOT NULL"),
    ("OPEN", "FLOAT"),
    ("HIGH", "FLOAT"),
    ("LOW", "FLOAT"),
    ("CLOSE", "FLOAT NOT NULL"),
    ("VOLUME", "FLOAT"),
    ("SOURCE", "VARCHAR(32) NOT NULL"),  # 'csv:<file name>' or 'synthetic'
    ("LOADED_AT", "TIMESTAMP_NTZ NOT NULL"),  # UTC
)


def daily_table(settings: SnowflakeSettings) -> str:
    return f"{settings.database}.{settings.raw_schema}.{DAILY_TABLE}"


def daily_ddl(settings: SnowflakeSettings) -> str:
    columns = ",\n  ".join(f"{name} {kind}" for name, kind in DAILY_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {daily_table(settings)} (\n  {columns}\n)"


def ddl(settings: SnowflakeSettings) -> list[str]:
    """The idempotent statements that `stockwatch warehouse init` runs."""
    db = settings.database
    schemas = (RAW_SCHEMA, STAGING_SCHEMA, INTERMEDIATE_SCHEMA, MARTS_SCHEMA)
    columns = ",\n  ".join(f"{name} {kind}" for name, kind in RAW_COLUMNS)
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        *(f"CREATE SCHEMA IF NOT EXISTS {db}.{schema}" for schema in schemas),
        f"CREATE TABLE IF NOT EXISTS {settings.raw_table} (\n  {columns}\n)",
        daily_ddl(settings),
    ]


def connect_raw(settings: SnowflakeSettings) -> Any:
    """A new connection with autocommit off: callers commit explicitly and close it."""
    return snowflake.connector.connect(**settings.connect_kwargs(), autocommit=False)


@contextmanager
def connect(settings: SnowflakeSettings) -> Iterator[Any]:
    """`connect_raw` as a context manager that closes the connection on exit."""
    conn = connect_raw(settings)
    try:
        yield conn
    finally:
        conn.close()


def init_warehouse(settings: SnowflakeSettings) -> list[str]:
    """Create database, schemas and RAW table if missing; return the statements run."""
    statements = ddl(settings)
    with connect(settings) as conn:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
        conn.commit()
    return statements


def raw_count(settings: SnowflakeSettings, symbol: str | None = None) -> int:
    """Rows in RAW (optionally for one symbol)."""
    with connect(settings) as conn:
        cur = conn.cursor()
        if symbol is None:
            cur.execute(f"SELECT COUNT(*) FROM {settings.raw_table}")
        else:
            cur.execute(f"SELECT COUNT(*) FROM {settings.raw_table} WHERE SYMBOL = %s", (symbol,))
        row = cur.fetchone()
        return int(row[0]) if row else 0
