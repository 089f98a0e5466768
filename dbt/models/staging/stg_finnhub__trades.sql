-- Valid trade prints (Finnhub websocket `trade` messages): price and volume per execution.
select
    event_id,
    symbol,
    price,
    coalesce(volume, 0) as volume,
    event_time,
    event_date,
    event_hour,
    ingest_time,
    loaded_at,
    ingest_lag_seconds,
    source
from {{ ref('stg_finnhub__events') }}
where event_type = 'trade' and reject_reason is null
