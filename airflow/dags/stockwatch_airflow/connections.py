"""Kafka and Snowflake settings from Airflow connections, each field overridable by the environment.

Precedence, per field: a `KAFKA_*` / `SNOWFLAKE_*` environment variable (the names of
`stockwatch.config`) > the Airflow connection (`stockwatch_kafka`, `stockwatch_snowflake`, e.g. from
`AIRFLOW_CONN_STOCKWATCH_KAFKA` or a secrets backend) > the default of `stockwatch.config`.
A missing connection is not an error: the settings then come from the environment alone.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stockwatch.config import KafkaSettings, SnowflakeSettings

log = logging.getLogger(__name__)

KAFKA_CONN_ID = os.environ.get("STOCKWATCH_KAFKA_CONN_ID", "stockwatch_kafka")
SNOWFLAKE_CONN_ID = os.environ.get("STOCKWATCH_SNOWFLAKE_CONN_ID", "stockwatch_snowflake")

# Connection extras that map one-to-one onto settings fields (librdkafka spellings too).
_KAFKA_EXTRA = {
    "bootstrap_servers": "bootstrap_servers",
    "bootstrap.servers": "bootstrap_servers",
    "topic": "topic",
    "dlq_topic": "dlq_topic",
    "group_id": "group_id",
    "group.id": "group_id",
    "security_protocol": "security_protocol",
    "security.protocol": "security_protocol",
    "sasl_mechanism": "sasl_mechanism",
    "sasl.mechanism": "sasl_mechanism",
}
_SNOWFLAKE_EXTRA = {
    "account": "account",
    "warehouse": "warehouse",
    "database": "database",
    "role": "role",
    "raw_schema": "raw_schema",
    "private_key_file": "private_key_path",
    "private_key_path": "private_key_path",
    "private_key_passphrase": "private_key_passphrase",
    "protocol": "protocol",
}


class ConnectionFields:
    """The parts of an Airflow connection we read; built from `airflow.sdk.Connection` or by tests."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        login: str | None = None,
        password: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.host = host or None
        self.port = port or None
        self.login = login or None
        self.password = password or None
        self.extra = extra or {}


def get_connection(conn_id: str) -> ConnectionFields | None:
    """The Airflow connection `conn_id`, or None when no connection of that id is defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        log.info("no Airflow connection %r: settings come from the environment", conn_id)
        return None
    return ConnectionFields(conn.host, conn.port, conn.login, conn.password, conn.extra_dejson)


def _from_extra(extra: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    return {mapping[key]: value for key, value in extra.items() if key in mapping and value not in (None, "")}


def kafka_fields(conn: ConnectionFields) -> dict[str, Any]:
    """Settings fields from a Kafka connection: host[:port] (or extra bootstrap_servers), login/password = SASL."""
    fields: dict[str, Any] = {}
    if conn.host:
        fields["bootstrap_servers"] = f"{conn.host}:{conn.port}" if conn.port else conn.host
    if conn.login:
        fields["sasl_username"] = conn.login
    if conn.password:
        fields["sasl_password"] = conn.password
    fields.update(_from_extra(conn.extra, _KAFKA_EXTRA))
    return fields


def snowflake_fields(conn: ConnectionFields) -> dict[str, Any]:
    """Settings fields from a Snowflake connection (the Snowflake provider's layout: extras account, warehouse…)."""
    fields: dict[str, Any] = {}
    if conn.login:
        fields["user"] = conn.login
    if conn.password:
        fields["password"] = conn.password
    if conn.host:
        fields["host"] = conn.host
    if conn.port:
        fields["port"] = conn.port
    fields.update(_from_extra(conn.extra, _SNOWFLAKE_EXTRA))
    if fields.get("account", "fakesnow") != "fakesnow" and not conn.host:
        # A real account: the connector derives the host from it (the settings default is the local fakesnow).
        fields.update(host=None, port=None, protocol="https")
    return fields


def without_env_overrides(fields: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Drop the fields that the environment sets (`<prefix><FIELD>`): the environment wins."""
    env = {key.upper() for key in os.environ}
    return {key: value for key, value in fields.items() if f"{prefix}{key}".upper() not in env}


def kafka_settings(conn_id: str = KAFKA_CONN_ID) -> KafkaSettings:
    from stockwatch.config import KafkaSettings

    conn = get_connection(conn_id)
    fields = without_env_overrides(kafka_fields(conn), "KAFKA_") if conn else {}
    return KafkaSettings(**fields)


def snowflake_settings(conn_id: str = SNOWFLAKE_CONN_ID) -> SnowflakeSettings:
    from stockwatch.config import SnowflakeSettings

    conn = get_connection(conn_id)
    fields = without_env_overrides(snowflake_fields(conn), "SNOWFLAKE_") if conn else {}
    return SnowflakeSettings(**fields)
