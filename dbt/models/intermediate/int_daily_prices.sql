-- The daily series the marts compute on: backfilled history where it exists (complete vendor or
-- synthetic days), live bars for the days it does not cover (today, and any day after the backfill).
with history as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        source
    from {{ ref('stg_backfill__daily_prices') }}
),

live as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        'live' as source
    from {{ ref('int_daily_ohlc') }}
)

select * from history
union all
select live.*
from live
left join history
    on live.symbol = history.symbol and live.trade_date = history.trade_date
where history.symbol is null
