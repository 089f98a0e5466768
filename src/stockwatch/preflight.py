"""Start-up checks: is Kafka, is the warehouse there? One bounded probe each, so that a wrong address or a
part that is down ends a command at once with one line naming the setting and the address, instead of a
process that retries in silence (or in hundreds of library log lines) and then looks like it succeeded.

- Kafka: a metadata request (`AdminClient.list_topics`) within `KAFKA_STARTUP_TIMEOUT_SECONDS`; librdkafka
  retries the connection meanwhile, so a broker that comes up during the wait is fine. On a reachable
  broker this is one round trip (milliseconds).
- Warehouse: one login (`snowflake.connector.connect`) within `SNOWFLAKE_STARTUP_TIMEOUT_SECONDS`, closed at
  once (milliseconds on fakesnow, a Snowflake login otherwise, once per process).
"""

from __future__ import annotations

import re

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.logs import LibrdkafkaLog


class UnreachableError(Exception):
    """A part the command needs did not answer at start; `str()` is the one line to show."""


# librdkafka's "127.0.0.1:1/bootstrap: Connect to ... failed: Connection refused (after 0ms in state CONNECT)"
_BROKER_PREFIX = re.compile(r"^\S+/\S+: ")
_STATE_SUFFIX = re.compile(r" \(after \d+ms in state [^)]*\)$")


def _kafka_detail(error: KafkaError | None, fallback: KafkaError) -> str:
    text = (error or fallback).str()
    return _STATE_SUFFIX.sub("", _BROKER_PREFIX.sub("", text))


def check_kafka(settings: KafkaSettings) -> None:
    """Raise `UnreachableError` unless a broker of `KAFKA_BOOTSTRAP_SERVERS` answers a metadata request in time."""
    log = LibrdkafkaLog(quiet=True)  # this probe reports its outcome itself, in one line
    admin = AdminClient(settings.client_config(log))
    timeout = settings.startup_timeout_seconds
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        admin.poll(0)  # serve the client's error callbacks: they hold the cause (refused, unresolvable, ...)
        where = f"KAFKA_BOOTSTRAP_SERVERS={settings.bootstrap_servers}"
        detail = _kafka_detail(log.last_error, exc.args[0])
        if log.last_error is not None and log.last_error.code() == KafkaError._AUTHENTICATION:
            raise UnreachableError(
                f"{where}: authentication failed ({detail}); check KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            ) from None
        raise UnreachableError(f"{where}: broker unreachable ({detail}; no answer within {timeout:g} s)") from None


def _os_cause(exc: BaseException) -> OSError | None:
    """The innermost OSError (refused, unresolvable, timed out) under a connector error, if any."""
    found: OSError | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def check_warehouse(settings: SnowflakeSettings) -> None:
    """Raise `UnreachableError` unless the warehouse accepts a login in time."""
    import snowflake.connector
    from snowflake.connector.errors import DatabaseError, OperationalError

    timeout = settings.startup_timeout_seconds
    try:
        conn = snowflake.connector.connect(**settings.connect_kwargs(), login_timeout=timeout, network_timeout=timeout)
    except DatabaseError as exc:
        cause = _os_cause(exc)
        if cause is not None or isinstance(exc, OperationalError):
            detail = (cause.strerror or str(cause)) if cause is not None else (exc.msg or str(exc))
            raise UnreachableError(f"{settings.address}: warehouse unreachable ({detail})") from None
        raise UnreachableError(
            f"SNOWFLAKE_USER={settings.user}: the warehouse at {settings.address} refused the login ({exc.msg}); "
            "check SNOWFLAKE_USER, SNOWFLAKE_PASSWORD / SNOWFLAKE_PRIVATE_KEY_PATH and SNOWFLAKE_ROLE"
        ) from None
    conn.close()
