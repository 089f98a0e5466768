"""structlog set-up: readable lines on a terminal, JSON lines elsewhere (containers, CI).

librdkafka (inside confluent-kafka) writes its own lines to stderr unless a client is given a `logger`;
`LibrdkafkaLog` is that logger (and `error_cb`): every client made from `KafkaSettings.client_config()`
logs through structlog, so its lines are JSON like the rest, at these levels:

- librdkafka's emerg/alert/crit lines and fatal client errors: `error`;
- its err/warning lines (a broker it cannot reach, a disconnect — librdkafka retries those itself, and what
  it cannot deliver surfaces as our own `delivery failed` / `not delivered` errors): `warning`;
- notice/info: `info`; debug: `debug`.

The same line repeated (a broker down is retried every few milliseconds to seconds) is written once per
`repeat_seconds`, with `repeated=N` saying how many were held back. Lines reach structlog when the client
is polled (confluent-kafka serves them from `poll()`, `flush()` and `consume()`).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time

import structlog
from confluent_kafka import KafkaError

_librdkafka_log = structlog.get_logger("librdkafka")


def configure(level: str = "INFO", json: bool | None = None) -> None:
    json = not sys.stderr.isatty() if json is None else json
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


class LibrdkafkaLog:
    """A confluent-kafka `logger` (its `log(level, fmt, *args)` protocol) and `error_cb`, writing to structlog.

    `quiet=True` writes everything at debug level (a start-up probe reports its outcome itself) and keeps the
    last error, for that report.
    """

    _NUMBERS = re.compile(r"\d+")

    def __init__(self, repeat_seconds: float = 30.0, quiet: bool = False) -> None:
        self.repeat_seconds = repeat_seconds
        self.quiet = quiet
        self.last_error: KafkaError | None = None
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def _held_back(self, key: tuple[str, str]) -> int | None:
        """None to hold this line back; else how many of its repeats were held back since it was last written."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 1000:  # bounded: lines differ by more than numbers (topic names, ...)
                self._seen.clear()
            first, repeats = self._seen.get(key, (-self.repeat_seconds, 0))
            if now - first < self.repeat_seconds:
                self._seen[key] = (first, repeats + 1)
                return None
            self._seen[key] = (now, 0)
            return repeats

    def _write(self, level: str, event: str, key: tuple[str, str], **fields: object) -> None:
        if self.quiet:
            _librdkafka_log.debug(event, **fields)
            return
        repeated = self._held_back((key[0], self._NUMBERS.sub("#", key[1])))
        if repeated is None:
            return
        if repeated:
            fields["repeated"] = repeated
        getattr(_librdkafka_log, level)(event, **fields)

    def log(self, level: int, fmt: str, *args: object) -> None:
        """confluent-kafka calls `log(logging level, "%s [%s] %s", facility, client name, message)`."""
        facility, client, message = (str(a) for a in args) if len(args) == 3 else ("", "", fmt % args)
        if level >= logging.CRITICAL:
            name = "error"
        elif level >= logging.WARNING:
            name = "warning"
        else:
            name = "info" if level >= logging.INFO else "debug"
        self._write(name, message, (facility, message), facility=facility, client=client)

    def error_cb(self, error: KafkaError) -> None:
        """Client-level errors. Transport errors are logged by librdkafka too (see `log`): debug here."""
        self.last_error = error
        if error.fatal():
            level = "error"
        elif error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._AUTHENTICATION):
            level = "warning"
        else:
            level = "debug"
        self._write(level, "kafka client error", (error.name(), error.str()), code=error.name(), error=error.str())
