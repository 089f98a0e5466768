"""Helpers of the stockwatch DAGs: settings from Airflow connections, data-quality checks, alerting.

Kept out of the DAG files so that parsing a DAG stays cheap: these modules import only the standard
library at top level; Kafka, Snowflake and the loader are imported inside the task functions.
"""
