"""Topic set-up for the local broker (in the cluster, Strimzi KafkaTopics own this; auto-create is off)."""

from __future__ import annotations

import uuid

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from stockwatch.config import KafkaSettings


def ensure_topics(settings: KafkaSettings, partitions: int = 3, timeout: float = 30.0) -> None:
    """Create the quotes topic and its dead-letter topic if they do not exist."""
    admin = AdminClient(settings.client_config())
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(name, num_partitions=partitions, replication_factor=1)
        for name in (settings.topic, settings.dlq_topic)
        if name not in existing
    ]
    if not wanted:
        return
    for name, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise RuntimeError(f"could not create topic {name}: {exc}") from exc


def fresh_topics(bootstrap_servers: str, label: str = "") -> KafkaSettings:
    """Settings with a quotes topic, DLQ topic and consumer group of their own (created now): for tests and
    benches that share one broker."""
    suffix = f"{label}_{uuid.uuid4().hex[:8]}" if label else uuid.uuid4().hex[:8]
    settings = KafkaSettings(
        bootstrap_servers=bootstrap_servers,
        topic=f"stock_prices_{suffix}",
        dlq_topic=f"stock_prices_dlq_{suffix}",
        group_id=f"stockwatch-loader-{suffix}",
    )
    ensure_topics(settings)
    return settings
