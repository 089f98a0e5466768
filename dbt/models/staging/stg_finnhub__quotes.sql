-- Valid quote events, with a spike flag: the price moved more than `spike_threshold` against the
-- previous quote of the same symbol and day (the first quote of a day is compared with PREV_CLOSE).
with quotes as (
    select * from {{ ref('stg_finnhub__events') }}
    where event_type = 'quote' and reject_reason is null
),

with_previous as (
    select
        *,
        coalesce(
            lag(price) over (partition by symbol, event_date order by event_time, event_id),
            prev_close
        ) as previous_price
    from quotes
)

select
    event_id,
    symbol,
    price,
    price_change,
    change_pct,
    day_open,
    day_high,
    day_low,
    prev_close,
    previous_price,
    coalesce(abs(price / nullif(previous_price, 0) - 1) > {{ var('spike_threshold') }}, false) as is_spike,
    event_time,
    event_date,
    event_hour,
    ingest_time,
    loaded_at,
    ingest_lag_seconds,
    source
from with_previous
