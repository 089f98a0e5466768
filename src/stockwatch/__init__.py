"""stockwatch: quotes -> Kafka -> Snowflake RAW -> dbt marts, with a Kubernetes operator around it."""

__version__ = "0.1.0"
