"""Step 3 — dead-letter: send invalid messages to the DLQ topic with the reason, and wait for the acks.

Contract: returns only when the broker has acknowledged every dead letter (acks=all), so committing the
batch's offsets afterwards can never lose one. Original key and value are kept byte for byte; headers
carry the reason and where the message came from.
"""

from __future__ import annotations

from datetime import UTC, datetime

from confluent_kafka import KafkaError, Message, Producer

from stockwatch.config import KafkaSettings
from stockwatch.loader.validate import DeadLetter


class DeadLetterQueue:
    def __init__(self, kafka: KafkaSettings) -> None:
        self.topic = kafka.dlq_topic
        self._producer = Producer({**kafka.client_config(), "enable.idempotence": True, "acks": "all"})

    def send(self, letters: list[DeadLetter], timeout: float = 60.0) -> None:
        if not letters:
            return
        errors: list[str] = []

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err.str())

        now = datetime.now(UTC).isoformat()
        for letter in letters:
            src = letter.message
            self._producer.produce(
                self.topic,
                value=src.value(),
                key=src.key(),
                headers=[
                    ("x-stockwatch-dlq-reason", letter.reason.encode()),
                    ("x-stockwatch-dlq-reason-class", letter.reason_class.encode()),
                    ("x-stockwatch-source-topic", (src.topic() or "").encode()),
                    ("x-stockwatch-source-partition", str(src.partition()).encode()),
                    ("x-stockwatch-source-offset", str(src.offset()).encode()),
                    ("x-stockwatch-dlq-time", now.encode()),
                ],
                on_delivery=on_delivery,
            )
        left = self._producer.flush(timeout)
        if left or errors:
            raise RuntimeError(f"dead-letter topic {self.topic}: {left} unsent, errors {errors[:3]}")
