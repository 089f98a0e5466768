-- Every RAW market event once: typed, deduplicated on EVENT_ID (the latest load wins), with the
-- reason it is invalid (null when valid). The quotes, trades and quarantine models split this.
with source as (
    select * from {{ source('raw', 'stock_prices') }}
),

typed as (
    select
        cast(event_id as varchar) as event_id,
        upper(trim(symbol)) as symbol,
        lower(trim(event_type)) as event_type,
        cast(price as float) as price,
        cast(change as float) as price_change,
        cast(change_pct as float) as change_pct,
        cast(day_open as float) as day_open,
        cast(day_high as float) as day_high,
        cast(day_low as float) as day_low,
        cast(prev_close as float) as prev_close,
        cast(volume as float) as volume,
        cast(event_time as timestamp_ntz) as event_time,
        cast(event_time as date) as event_date,
        cast(ingest_time as timestamp_ntz) as ingest_time,
        cast(loaded_at as timestamp_ntz) as loaded_at,
        lower(source) as source,
        kafka_partition,
        kafka_offset
    from source
)

select
    *,
    date_trunc('hour', event_time) as event_hour,
    datediff('millisecond', event_time, loaded_at) / 1000.0 as ingest_lag_seconds,
    {{ reject_reason() }} as reject_reason
from typed
-- EVENT_ID is the loader's MERGE key, so duplicates only come from a replay outside it.
-- event_date (a column of `typed`, not an expression) is in the partition, so the incremental models'
-- date filter reaches RAW before this window runs.
qualify row_number() over (
    partition by event_date, event_id order by loaded_at desc, kafka_partition desc, kafka_offset desc
) = 1
