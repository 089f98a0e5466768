-- Asserts the OHLC invariant of every daily bar the indicators are computed on: open and close lie
-- within [low, high]. Returns the bars that break it.
select
    symbol,
    trade_date,
    open,
    high,
    low,
    close,
    source
from {{ ref('int_daily_prices') }}
where
    open > high
    or open < low
    or close > high
    or close < low
