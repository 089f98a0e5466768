-- Daily history from `stockwatch backfill` (RAW_STOCKS.DAILY_PRICES), typed, one row per symbol and day.
select
    upper(trim(symbol)) as symbol,
    cast(trade_date as date) as trade_date,
    cast(open as float) as open,
    cast(high as float) as high,
    cast(low as float) as low,
    cast(close as float) as close,
    cast(volume as float) as volume,
    lower(source) as source,
    cast(loaded_at as timestamp_ntz) as loaded_at
from {{ source('raw', 'daily_prices') }}
where close > 0 and high >= low
qualify row_number() over (partition by symbol, trade_date order by loaded_at desc) = 1
