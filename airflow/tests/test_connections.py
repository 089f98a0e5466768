"""Settings from Airflow connections: field mapping, and the environment overriding a connection."""

from __future__ import annotations

import json

import pytest
from stockwatch_airflow.connections import ConnectionFields, kafka_fields, snowflake_fields, without_env_overrides

CREDENTIAL = "not-a-real-one"


def test_kafka_connection_fields() -> None:
    conn = ConnectionFields(
        host="kafka-bootstrap.kafka",
        port=9093,
        login="loader",
        password=CREDENTIAL,
        extra={"topic": "quotes", "security.protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "x": 1},
    )
    fields = kafka_fields(conn)
    assert fields == {
        "bootstrap_servers": "kafka-bootstrap.kafka:9093",
        "sasl_username": "loader",
        "sasl_password": CREDENTIAL,
        "topic": "quotes",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
    }


def test_kafka_bootstrap_list_from_extra_wins_over_host() -> None:
    conn = ConnectionFields(host="a", extra={"bootstrap.servers": "a:9092,b:9092"})
    assert kafka_fields(conn)["bootstrap_servers"] == "a:9092,b:9092"


def test_snowflake_provider_style_connection_targets_the_account() -> None:
    conn = ConnectionFields(
        login="LOADER",
        password=CREDENTIAL,
        extra={"account": "xy12345.eu-central-1", "warehouse": "LOAD_WH", "role": "LOADER", "private_key_file": "/k"},
    )
    fields = snowflake_fields(conn)
    assert fields["account"] == "xy12345.eu-central-1"
    assert fields["private_key_path"] == "/k"
    # the settings' local default (fakesnow on 127.0.0.1) must not leak into a real account
    assert fields["host"] is None
    assert fields["protocol"] == "https"


def test_environment_overrides_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_TOPIC", "from_env")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    fields = {"topic": "from_conn", "bootstrap_servers": "conn:9092"}
    assert without_env_overrides(fields, "KAFKA_") == {"bootstrap_servers": "conn:9092"}


def test_settings_from_an_airflow_connection_in_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    """The real Airflow secrets path: `AIRFLOW_CONN_<ID>` JSON, read by `airflow.sdk.Connection`."""
    from stockwatch_airflow.connections import kafka_settings, snowflake_settings

    conn = {"conn_type": "kafka", "host": "broker", "port": 9092, "extra": {"topic": "t1", "group_id": "g1"}}
    clean_env.setenv("AIRFLOW_CONN_STOCKWATCH_KAFKA", json.dumps(conn))
    clean_env.setenv("KAFKA_GROUP_ID", "g-env")
    settings = kafka_settings()
    assert (settings.bootstrap_servers, settings.topic, settings.group_id) == ("broker:9092", "t1", "g-env")
    # no connection at all: the environment and the defaults alone
    clean_env.setenv("SNOWFLAKE_DATABASE", "STOCKS_FIN_X")
    assert snowflake_settings().database == "STOCKS_FIN_X"
