{{ config(materialized='view') }}
-- MARTS_STOCKS.STOCK_ANALYTICS: the seed's analytics table name, kept for existing dashboards and
-- queries. A view on fct_daily_prices with the seed's column names plus every indicator.
select
    symbol,
    trade_date as date,
    open as open_price,
    high as high_price,
    low as low_price,
    close as close_price,
    volume,
    sma_7 as ma_7,
    sma_30 as ma_30,
    daily_return * 100 as daily_change_pct,
    volatility_30d,
    ema_12,
    ema_26,
    macd,
    macd_signal,
    macd_histogram,
    rsi_14,
    bollinger_upper,
    bollinger_middle,
    bollinger_lower,
    high_52w,
    low_52w,
    pct_from_52w_high,
    pct_from_52w_low,
    volume_ratio,
    source
from {{ ref('fct_daily_prices') }}
