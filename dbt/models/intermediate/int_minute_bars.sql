{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'bar_minute'],
        incremental_strategy=incremental_strategy(),
        incremental_predicates=[
            'DBT_INTERNAL_DEST.bar_date in (select bar_date from ' ~ make_temp_relation(this) ~ ')'
        ],
        on_schema_change=on_schema_change(),
    )
}}
-- One-minute OHLCV bars per symbol by event time. Prices from trades when the minute has trades,
-- from quotes otherwise; volume is the traded volume (0 without trades). Incremental by whole hours:
-- a run rebuilds the event hours that received rows since the last one (macros/helpers.sql), so a
-- run every few minutes re-reads the last hour or two, not the whole day so far. A bar depends only
-- on its own minute's events, so rebuilt hours replace their bars exactly (delete+insert on the key).
-- The delete of an incremental run reads only the rebuilt days of this table (incremental_predicates).
-- depends_on: {{ source('raw', 'stock_prices') }}
{%- if is_incremental() %}
    {%- set hours = changed_since_watermark(
        source('raw', 'stock_prices'), "date_trunc('hour', event_time)", format='YYYY-MM-DD HH24:MI:SS'
    ) %}
    {%- set dates = [] %}
    {%- for hour in hours if hour[:10] not in dates %}{% do dates.append(hour[:10]) %}{% endfor %}
    {#- The date filter reaches RAW before the staging windows; the hour list is dropped when it grows
        long (a large backfill of late events): whole days are then rebuilt, as exact, with a short query. #}
    {%- set max_hours = 1000 %}
    {%- set rebuild -%}
        event_date in {{ sql_literals(dates, 'date') }}
        {%- if hours | length <= max_hours %} and event_hour in {{ sql_literals(hours, 'timestamp_ntz') }}{% endif %}
    {%- endset %}
{%- endif %}
with events as (
    select
        symbol,
        event_date,
        event_time,
        event_id,
        price,
        0.0 as volume,
        'quote' as kind,
        is_spike,
        loaded_at
    from {{ ref('stg_finnhub__quotes') }}
    {% if is_incremental() %}where {{ rebuild }}{% endif %}
    union all
    select
        symbol,
        event_date,
        event_time,
        event_id,
        price,
        volume,
        'trade' as kind,
        false as is_spike,
        loaded_at
    from {{ ref('stg_finnhub__trades') }}
    {% if is_incremental() %}where {{ rebuild }}{% endif %}
),

bars as (
    select
        symbol,
        date_trunc('minute', event_time) as bar_minute,
        event_date as bar_date,
        -- Trades, when the minute has any, define its prices: the trade-only aggregates are null in a
        -- minute without trades (min_by / max_by skip null keys), and the quote prices fill in.
        coalesce(
            min_by(price, case when kind = 'trade' then event_time end), min_by(price, event_time)
        ) as open,
        coalesce(max(case when kind = 'trade' then price end), max(price)) as high,
        coalesce(min(case when kind = 'trade' then price end), min(price)) as low,
        coalesce(
            max_by(price, case when kind = 'trade' then event_time end), max_by(price, event_time)
        ) as close,
        sum(volume) as volume,
        count_if(kind = 'trade') as trade_count,
        count_if(kind = 'quote') as quote_count,
        count_if(is_spike) as spike_count,
        max(loaded_at) as last_loaded_at
    from events
    group by symbol, date_trunc('minute', event_time), event_date
)

select * from bars
