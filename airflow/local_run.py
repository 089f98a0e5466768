"""Run the ingestion DAG once on this machine: `make airflow-dag-test` (ARGS="--events 500", "--use-env").

By default it starts what the DAG needs in `--workdir`: the local Kafka broker (topics created), the fakesnow
warehouse (STOCKS_FIN initialised), a SQLite Airflow metadata DB; it publishes `--events` synthetic quotes and
runs `dag.test()`, then prints the task states and the RAW row count. With `--use-env` it starts nothing and
uses the `KAFKA_*` / `SNOWFLAKE_*` environment (or the `stockwatch_*` Airflow connections) as the DAG would.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAGS = Path(__file__).resolve().parent / "dags"
DAG_ID = "stock_data_ingestion_snowflake"


def airflow_env(home: Path) -> None:
    """Point Airflow at a SQLite DB in `home` (before Airflow is imported) and migrate it."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
    )
    print(f">> airflow db migrate ({home})", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


@contextlib.contextmanager
def local_services(workdir: Path, events: int) -> Iterator[None]:
    """Kafka + fakesnow in `workdir`, exported as KAFKA_* / SNOWFLAKE_*, with `events` quotes published."""
    from confluent_kafka import Producer

    from stockwatch.config import DEFAULT_SYMBOLS, KafkaSettings, SnowflakeSettings
    from stockwatch.local.fakesnow import LocalFakesnow
    from stockwatch.local.kafka import LocalKafka
    from stockwatch.sources.synthetic import SyntheticMarket
    from stockwatch.topics import ensure_topics
    from stockwatch.warehouse import init_warehouse

    kafka = LocalKafka(workdir / "kafka")
    warehouse = LocalFakesnow(workdir / "fakesnow" / "data")
    try:
        print(">> starting the local Kafka broker and the fakesnow warehouse", flush=True)
        kafka.start()
        warehouse.start()
        os.environ.update(KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers, **warehouse.env())
        settings = KafkaSettings()
        ensure_topics(settings)
        init_warehouse(SnowflakeSettings())
        ticks = max(1, events // len(DEFAULT_SYMBOLS))
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=ticks)
        market = SyntheticMarket(list(DEFAULT_SYMBOLS), realtime=False, max_ticks=ticks, start=start)
        producer = Producer(settings.client_config())
        published = 0
        for event in market.ticks():
            producer.produce(settings.topic, key=event.key, value=event.to_json())
            published += 1
        if producer.flush(30):
            raise RuntimeError("could not publish the synthetic quotes within 30 s")
        print(f">> published {published} synthetic quotes to {settings.topic}", flush=True)
        yield
    finally:
        warehouse.stop()
        kafka.stop()


def run_dag() -> int:
    from airflow.dag_processing.dagbag import BundleDagBag

    from stockwatch.warehouse import raw_count

    bag = BundleDagBag(dag_folder=DAGS, bundle_path=DAGS)
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
        return 1
    run = bag.dags[DAG_ID].test()
    print(f"\n>> {DAG_ID}: {run.state}")
    for ti in sorted(run.get_task_instances(), key=lambda ti: ti.start_date or datetime.max.replace(tzinfo=UTC)):
        print(f"   {ti.task_id:<20} {ti.state}")
    from stockwatch_airflow.connections import snowflake_settings  # on sys.path once the DagBag has loaded

    print(f"   RAW rows: {raw_count(snowflake_settings())}")
    return 0 if run.state == "success" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(".scratch/airflow"))
    parser.add_argument("--events", type=int, default=200, help="synthetic quotes to publish first (local mode)")
    parser.add_argument("--use-env", action="store_true", help="start nothing; use KAFKA_* / SNOWFLAKE_* as set")
    args = parser.parse_args()
    airflow_env(args.workdir.resolve() / "home")
    if args.use_env:
        return run_dag()
    with local_services(args.workdir.resolve(), args.events):
        return run_dag()


if __name__ == "__main__":
    sys.exit(main())
