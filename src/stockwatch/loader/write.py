"""Step 4 — write: bulk-load rows into a session staging table, MERGE into RAW on EVENT_ID, commit.

Contract: after `write()` returns, every row is in RAW exactly once (rows whose EVENT_ID is already
there are left alone), in one warehouse transaction. The bulk path is PUT of a gzip'd CSV to the
staging table's stage + COPY INTO: the same statements on Snowflake and on the fakesnow server.
Calling it again with the same rows changes nothing, which is what makes redelivery safe.
"""

from __future__ import annotations

import csv
import tempfile
import uuid
from pathlib import Path
from typing import Any

from stockwatch.config import SnowflakeSettings
from stockwatch.loader.validate import Row
from stockwatch.warehouse import RAW_COLUMN_NAMES, connect_raw

STAGE_TABLE = "STOCK_PRICES_LOAD_STAGE"
_COLUMNS = ", ".join(RAW_COLUMN_NAMES)
_FILE_FORMAT = "(TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('') EMPTY_FIELD_AS_NULL = TRUE)"


class WarehouseWriter:
    """One warehouse session with its temporary staging table."""

    def __init__(self, settings: SnowflakeSettings, workdir: Path | None = None) -> None:
        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="stockwatch-load-", dir=workdir)
        self._conn: Any = connect_raw(settings)
        cur = self._conn.cursor()
        cur.execute(f"USE SCHEMA {settings.database}.{settings.raw_schema}")
        cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} LIKE {settings.raw_table}")
        self._conn.commit()

    def write(self, rows: list[Row]) -> dict[str, int]:
        """Merge `rows` into RAW; return the number of NEW rows per symbol."""
        if not rows:
            return {}
        # A new file name per batch: COPY skips files it has loaded before (by name in fakesnow).
        path = Path(self._tmp.name) / f"batch-{uuid.uuid4().hex}.csv"
        with path.open("w", newline="") as fh:
            csv.writer(fh).writerows(rows)
        cur = self._conn.cursor()
        try:
            cur.execute(f"TRUNCATE TABLE {STAGE_TABLE}")
            cur.execute(f"PUT 'file://{path}' @%{STAGE_TABLE} OVERWRITE = TRUE")
            # No column list: the CSV is in the staging table's column order (it is LIKE RAW).
            cur.execute(f"COPY INTO {STAGE_TABLE} FROM @%{STAGE_TABLE} FILE_FORMAT = {_FILE_FORMAT} PURGE = TRUE")
            cur.execute(
                f"SELECT SYMBOL, COUNT(DISTINCT EVENT_ID) FROM {STAGE_TABLE} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.settings.raw_table} r WHERE r.EVENT_ID = s.EVENT_ID) "
                "GROUP BY SYMBOL"
            )
            new_rows = {str(symbol): int(count) for symbol, count in cur.fetchall()}
            cur.execute(
                f"MERGE INTO {self.settings.raw_table} t USING ("
                f"SELECT * FROM {STAGE_TABLE} "
                "QUALIFY ROW_NUMBER() OVER (PARTITION BY EVENT_ID ORDER BY KAFKA_PARTITION, KAFKA_OFFSET) = 1"
                ") s ON t.EVENT_ID = s.EVENT_ID "
                f"WHEN NOT MATCHED THEN INSERT ({_COLUMNS}) VALUES ({', '.join('s.' + c for c in RAW_COLUMN_NAMES)})"
            )
            self._conn.commit()
        except Exception:
            self._conn.rollback()
            raise
        finally:
            path.unlink(missing_ok=True)
        return new_rows

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._tmp.cleanup()
