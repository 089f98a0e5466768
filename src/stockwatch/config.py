"""Configuration from the environment (pydantic-settings), one class per part of the pipeline.

Every setting has a default that works on a laptop with the local broker and the embedded
warehouse; production overrides them by environment variables (or a Kubernetes Secret mapped
to them). Secrets are `SecretStr`: they never appear in reprs, logs or metrics.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stockwatch.logs import LibrdkafkaLog

DEFAULT_SYMBOLS: tuple[str, ...] = (
    "AAPL", "GOOGL", "MSFT", "AMZN", "TSLA", "NVDA", "META", "NFLX", "UBER", "COIN",
)  # fmt: skip

RAW_SCHEMA = "RAW_STOCKS"
STAGING_SCHEMA = "STG_STOCKS"
INTERMEDIATE_SCHEMA = "INT_STOCKS"
MARTS_SCHEMA = "MARTS_STOCKS"
RAW_TABLE = "STOCK_PRICES"

# librdkafka settings, as confluent-kafka takes them (values are scalars, or callbacks such as `error_cb`).
# Any, because confluent-kafka's stubs type the AdminClient's config as scalars only.
KafkaConfig = dict[str, Any]


def parse_symbols(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """`"AAPL, msft GOOGL"` -> `["AAPL", "MSFT", "GOOGL"]`: commas or blanks, upper-cased, order kept, no repeats."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for item in items:
        symbol = item.strip().upper()
        if symbol:
            seen.setdefault(symbol, None)
    if not seen:
        raise ValueError("the symbol list is empty")
    return list(seen)


class SymbolSettings(BaseSettings):
    """The watchlist: `STOCKS="AAPL MSFT"` (the seed's variable) overrides the ten default symbols."""

    model_config = SettingsConfigDict(extra="ignore")

    stocks: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_SYMBOLS))

    @field_validator("stocks", mode="before")
    @classmethod
    def _split(cls, value: str | list[str]) -> list[str]:
        return parse_symbols(value)


class KafkaSettings(BaseSettings):
    """Kafka connection and topics (`KAFKA_*`)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "stock_prices"
    dlq_topic: str = "stock_prices_dlq"
    group_id: str = "stockwatch-loader"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # How long `produce` and `load` wait at start for the brokers to answer before they give up (exit 1).
    startup_timeout_seconds: float = Field(15.0, gt=0)

    def client_config(self, log: LibrdkafkaLog | None = None) -> KafkaConfig:
        """The librdkafka settings shared by producer, consumer and admin client. librdkafka's own log lines and
        client errors go to structlog (`stockwatch.logs.LibrdkafkaLog`; `log` to use a given one)."""
        log = log or LibrdkafkaLog()
        conf: KafkaConfig = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "logger": log,
            "error_cb": log.error_cb,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        return conf


class SnowflakeSettings(BaseSettings):
    """Warehouse connection (`SNOWFLAKE_*`).

    With `SNOWFLAKE_HOST`/`SNOWFLAKE_PORT` pointing at a fakesnow server (the default: the one
    `stockwatch demo` and the tests start) the same code talks to the embedded warehouse;
    with an account and credentials it talks to Snowflake.
    """

    model_config = SettingsConfigDict(env_prefix="SNOWFLAKE_", extra="ignore")

    account: str = "fakesnow"
    user: str = "stockwatch"
    password: SecretStr | None = None
    private_key_path: str | None = None
    private_key_passphrase: SecretStr | None = None
    role: str | None = None
    warehouse: str | None = None
    database: str = "STOCKS_FIN"
    raw_schema: str = RAW_SCHEMA
    # Unset for Snowflake (the connector derives the host from the account); the fakesnow server's address
    # otherwise (default 127.0.0.1:8765 over http).
    host: str | None = None
    port: int | None = None
    protocol: Literal["http", "https"] | None = None
    # How long `load` and `warehouse init` wait at start for a login before they give up (exit 1).
    startup_timeout_seconds: float = Field(30.0, gt=0)

    @property
    def address(self) -> str:
        """Where the warehouse is, named by the settings that put it there (for messages)."""
        if self.is_fakesnow or self.host:
            host, port = self.host or "127.0.0.1", self.port or (8765 if self.is_fakesnow else 443)
            return f"SNOWFLAKE_HOST/SNOWFLAKE_PORT={host}:{port}"
        return f"SNOWFLAKE_ACCOUNT={self.account}"

    @property
    def is_fakesnow(self) -> bool:
        return self.account == "fakesnow"

    @property
    def raw_table(self) -> str:
        return f"{self.database}.{self.raw_schema}.{RAW_TABLE}"

    def connect_kwargs(self) -> dict[str, object]:
        """Arguments for `snowflake.connector.connect`; secrets are unwrapped here and nowhere else."""
        kwargs: dict[str, object] = {"account": self.account, "user": self.user}
        if self.password is not None:
            kwargs["password"] = self.password.get_secret_value()
        elif self.is_fakesnow:
            kwargs["password"] = "fakesnow"  # noqa: S105 - fakesnow ignores it; the connector wants one
        if self.private_key_path:
            kwargs["private_key_file"] = self.private_key_path
            if self.private_key_passphrase is not None:
                kwargs["private_key_file_pwd"] = self.private_key_passphrase.get_secret_value()
        for key in ("role", "warehouse"):
            if getattr(self, key):
                kwargs[key] = getattr(self, key)
        if self.is_fakesnow:
            kwargs.update(
                host=self.host or "127.0.0.1",
                port=self.port or 8765,
                protocol=self.protocol or "http",
                session_parameters={},
            )
        else:
            kwargs.update(
                {k: v for k, v in (("host", self.host), ("port", self.port), ("protocol", self.protocol)) if v}
            )
        return kwargs


class FinnhubSettings(BaseSettings):
    """Finnhub API (`FINNHUB_*`). Without an API key the producer uses the synthetic market."""

    model_config = SettingsConfigDict(env_prefix="FINNHUB_", extra="ignore")

    api_key: SecretStr | None = None
    base_url: str = "https://finnhub.io/api/v1"
    ws_url: str = "wss://ws.finnhub.io"
    calls_per_minute: int = Field(60, ge=1)
    calls_per_second: int = Field(30, ge=1)
    timeout_seconds: float = Field(10.0, gt=0)
