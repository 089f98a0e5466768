-- RAW events kept out of staging, with the reason: counted here rather than silently lost.
select
    event_id,
    symbol,
    event_type,
    price,
    volume,
    event_time,
    event_date,
    loaded_at,
    source,
    reject_reason
from {{ ref('stg_finnhub__events') }}
where reject_reason is not null
