{#- RAW_STOCKS.DAILY_PRICES, the daily history `stockwatch backfill` loads, created if missing before every
    run (on-run-start) so the staging model has its source even where no backfill has run yet. Same DDL as
    `stockwatch.backfill.DAILY_COLUMNS` (dbt/tests/test_dbt_build.py checks they agree). -#}
{% macro create_daily_prices_table() -%}
    create table if not exists {{ target.database }}.RAW_STOCKS.DAILY_PRICES (
        SYMBOL varchar(32) not null,
        TRADE_DATE date not null,
        OPEN float,
        HIGH float,
        LOW float,
        CLOSE float not null,
        VOLUME float,
        SOURCE varchar(32) not null,
        LOADED_AT timestamp_ntz not null
    )
{%- endmacro %}
