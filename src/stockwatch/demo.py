"""`stockwatch demo`: the whole data path on one machine, for real.

Starts the Apache Kafka broker and the fakesnow warehouse in `workdir`, backfills daily history, runs the
producer (synthetic market, or Finnhub when FINNHUB_API_KEY is set) and the streaming loader side by
side with a live view, and on stop (Ctrl-C or `--duration`) drains the topic, builds the dbt models and
writes the HTML report.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from stockwatch import metrics, producer
from stockwatch.config import FinnhubSettings, KafkaSettings, SnowflakeSettings
from stockwatch.loader import BatchResult, run_forever
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.local.kafka import LocalKafka
from stockwatch.local.process import free_port, port_open, wait_for
from stockwatch.sources import make_source
from stockwatch.topics import ensure_topics
from stockwatch.warehouse import connect, init_warehouse


@dataclass
class Progress:
    loaded: int = 0
    dlq: int = 0
    lag: int = 0
    batches: int = 0
    by_symbol: dict[str, int] = field(default_factory=dict)

    def add(self, result: BatchResult) -> None:
        self.batches += 1
        self.loaded += result.rows_loaded
        self.dlq += result.dlq_count
        self.lag = result.consumer_lag
        for symbol, count in result.rows_by_symbol.items():
            self.by_symbol[symbol] = self.by_symbol.get(symbol, 0) + count


@dataclass
class Demo:
    symbols: list[str]
    workdir: Path
    tick_seconds: float = 0.5
    history_days: int = 400
    metrics_port: int = 9100
    console: Console = field(default_factory=Console)

    def _say(self, text: str) -> None:
        self.console.print(f"[bold cyan]>>[/] {text}")

    def run(self, duration: float | None) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        kafka_broker = LocalKafka(self.workdir / "kafka")
        warehouse = LocalFakesnow(self.workdir / "warehouse" / "data")
        try:
            self._say("starting Apache Kafka (KRaft, single node) and the fakesnow warehouse ...")
            kafka_broker.start()
            warehouse.start()
            os.environ.update(warehouse.env())
            kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
            snowflake = SnowflakeSettings()
            ensure_topics(kafka)
            init_warehouse(snowflake)
            self._say(f"Kafka at {kafka.bootstrap_servers}, topic {kafka.topic}; warehouse at {warehouse.env()}")
            if self.history_days:
                self._backfill(snowflake)
            self._stream(kafka, snowflake, duration)
            self._models(snowflake)
        finally:
            warehouse.stop()
            kafka_broker.stop()

    def _backfill(self, snowflake: SnowflakeSettings) -> None:
        from stockwatch.backfill import backfill

        result = backfill(snowflake, self.symbols, days=self.history_days)
        self._say(f"backfilled daily history: {result}")

    def _stream(self, kafka: KafkaSettings, snowflake: SnowflakeSettings, duration: float | None) -> None:
        port = self.metrics_port if not port_open(self.metrics_port) else free_port()
        metrics.serve(port, metrics.PRODUCER, metrics.LOADER)
        self._say(f"producer + loader metrics at http://127.0.0.1:{port}/metrics")
        finnhub = FinnhubSettings()
        source = make_source("auto", self.symbols, finnhub, tick_seconds=self.tick_seconds)
        self._say(f"source: {source.name}, {len(self.symbols)} symbols: {' '.join(self.symbols)}")
        publisher = producer.Publisher(kafka)
        progress = Progress()
        stop_producer, stop_loader = threading.Event(), threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop_producer.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

        async def produce() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            threading.Thread(
                target=lambda: (stop_producer.wait(), loop.call_soon_threadsafe(stop.set)), daemon=True
            ).start()
            await producer.run(source.events(), publisher, stop)

        producer_thread = threading.Thread(target=lambda: asyncio.run(produce()), name="producer")
        loader_thread = threading.Thread(
            target=run_forever,
            args=(kafka, snowflake, stop_loader),
            kwargs={"flush_seconds": 1.0, "on_batch": progress.add},
            name="loader",
        )
        producer_thread.start()
        loader_thread.start()
        deadline = None if duration is None else time.monotonic() + duration
        self._say("streaming; Ctrl-C to stop" + ("" if duration is None else f" (or after {duration:.0f}s)"))
        try:
            with Live(
                get_renderable=lambda: self._table(publisher, progress),
                console=self.console,
                refresh_per_second=4,
                transient=True,
            ) as live:
                while not stop_producer.is_set() and (deadline is None or time.monotonic() < deadline):
                    stop_producer.wait(0.25)
                    live.refresh()
                stop_producer.set()
                producer_thread.join()
                wait_for(
                    lambda: progress.loaded + progress.dlq >= publisher.stats.published and progress.lag == 0,
                    timeout=120,
                    what="the loader to drain the topic",
                    interval=0.25,
                )
                live.refresh()
        finally:
            stop_producer.set()
            stop_loader.set()
            loader_thread.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.console.print(self._table(publisher, progress))
        self._summary(snowflake, publisher, progress)

    @staticmethod
    def _table(publisher: producer.Publisher, progress: Progress) -> Table:
        table = Table(title="stockwatch demo", caption="produced = acknowledged by Kafka; loaded = new rows in RAW")
        for column in ("symbol", "produced", "loaded"):
            table.add_column(column, justify="right")
        for symbol in sorted(set(publisher.stats.by_symbol) | set(progress.by_symbol)):
            table.add_row(symbol, str(publisher.stats.by_symbol.get(symbol, 0)), str(progress.by_symbol.get(symbol, 0)))
        table.add_section()
        table.add_row("total", str(publisher.stats.published), str(progress.loaded))
        table.add_row("consumer lag", "", str(progress.lag))
        table.add_row("dead letters", "", str(progress.dlq))
        return table

    def _summary(self, snowflake: SnowflakeSettings, publisher: producer.Publisher, progress: Progress) -> None:
        with connect(snowflake) as conn:
            rows = (
                conn.cursor()
                .execute(f"SELECT SYMBOL, COUNT(*) FROM {snowflake.raw_table} GROUP BY SYMBOL ORDER BY SYMBOL")
                .fetchall()
            )
        self._say(
            f"published {publisher.stats.published}, loaded {progress.loaded} in {progress.batches} batches, "
            f"dead letters {progress.dlq}"
        )
        self._say("RAW_STOCKS.STOCK_PRICES rows per symbol: " + ", ".join(f"{s} {n}" for s, n in rows))
        missing = sorted(set(self.symbols) - {s for s, _ in rows})
        if missing:
            raise RuntimeError(f"no rows in RAW for {missing}")

    def _models(self, snowflake: SnowflakeSettings) -> None:
        from stockwatch.models import run_dbt
        from stockwatch.report import write_report

        self._say("building the dbt models (dbt build: staging -> intermediate -> marts, with tests) ...")
        run_dbt(["build"], snowflake, target_path=self.workdir / "dbt-target").check()
        path = write_report(snowflake, self.workdir / "report.html")
        self._say(f"report: {path}")
