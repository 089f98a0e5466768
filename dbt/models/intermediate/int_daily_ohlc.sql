{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date'],
        incremental_strategy=incremental_strategy(),
        on_schema_change=on_schema_change(),
    )
}}
-- Daily OHLCV per symbol from the live one-minute bars, by event time (UTC date: the US regular
-- session, 13:30-21:00 UTC, never crosses midnight UTC). Incremental: rebuilds the days whose minute
-- bars received events since the last run.
{%- if is_incremental() %}
    {%- set rebuild = changed_dates(ref('int_minute_bars'), 'bar_date', 'last_loaded_at') %}
{%- endif %}
select
    symbol,
    bar_date as trade_date,
    min_by(open, bar_minute) as open,
    max(high) as high,
    min(low) as low,
    max_by(close, bar_minute) as close,
    sum(volume) as volume,
    count(*) as minute_bars,
    sum(trade_count) as trade_count,
    sum(quote_count) as quote_count,
    sum(spike_count) as spike_count,
    min(bar_minute) as first_bar_at,
    max(bar_minute) as last_bar_at,
    max(last_loaded_at) as last_loaded_at
from {{ ref('int_minute_bars') }}
{% if is_incremental() %}where bar_date in {{ rebuild }}{% endif %}
group by symbol, bar_date
