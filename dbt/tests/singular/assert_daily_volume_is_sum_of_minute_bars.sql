-- Asserts that the live daily bars add up: a day's volume is the sum of its one-minute bars' volume
-- and its high / low are the extremes of those bars. Returns the days that differ.
with from_bars as (
    select
        symbol,
        bar_date as trade_date,
        sum(volume) as volume,
        max(high) as high,
        min(low) as low
    from {{ ref('int_minute_bars') }}
    group by symbol, bar_date
)

select
    daily.symbol,
    daily.trade_date
from {{ ref('int_daily_ohlc') }} as daily
inner join from_bars
    on daily.symbol = from_bars.symbol and daily.trade_date = from_bars.trade_date
where
    abs(daily.volume - from_bars.volume) > 1e-6
    or daily.high != from_bars.high
    or daily.low != from_bars.low
