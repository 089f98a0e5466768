{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'bar_date'],
        incremental_strategy=incremental_strategy(),
        on_schema_change=on_schema_change(),
    )
}}
-- One-minute OHLCV bars per symbol by event time. Prices from trades when the minute has trades,
-- from quotes otherwise; volume is the traded volume (0 without trades). Incremental by whole days.
with events as (
    select
        symbol,
        event_date,
        event_time,
        event_id,
        price,
        0.0 as volume,
        'quote' as kind,
        is_spike
    from {{ ref('stg_finnhub__quotes') }}
    {% if is_incremental() %}where event_date >= {{ recompute_from('bar_date') }}{% endif %}
    union all
    select
        symbol,
        event_date,
        event_time,
        event_id,
        price,
        volume,
        'trade' as kind,
        false as is_spike
    from {{ ref('stg_finnhub__trades') }}
    {% if is_incremental() %}where event_date >= {{ recompute_from('bar_date') }}{% endif %}
),

minute_events as (
    select
        *,
        date_trunc('minute', event_time) as bar_minute,
        -- Trades, when there are any in the minute, define the bar's prices; quotes and spikes are
        -- counted over every event of the minute.
        count_if(kind = 'trade') over (partition by symbol, event_date, date_trunc('minute', event_time))
            as minute_trades,
        count_if(kind = 'quote') over (partition by symbol, event_date, date_trunc('minute', event_time))
            as minute_quotes,
        count_if(is_spike) over (partition by symbol, event_date, date_trunc('minute', event_time))
            as minute_spikes
    from events
)

select
    symbol,
    bar_minute,
    event_date as bar_date,
    min_by(price, event_time) as open,
    max(price) as high,
    min(price) as low,
    max_by(price, event_time) as close,
    sum(volume) as volume,
    max(minute_trades) as trade_count,
    max(minute_quotes) as quote_count,
    max(minute_spikes) as spike_count
from minute_events
where minute_trades = 0 or kind = 'trade'
group by symbol, bar_minute, event_date
