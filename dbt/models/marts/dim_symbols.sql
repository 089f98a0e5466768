-- One row per symbol seen in the daily series: coverage, latest close and live activity.
with daily as (
    select
        symbol,
        min(trade_date) as first_trade_date,
        max(trade_date) as last_trade_date,
        count(*) as trading_days,
        count_if(source = 'live') as live_days,
        max_by(close, trade_date) as last_close
    from {{ ref('int_daily_prices') }}
    group by symbol
),

live as (
    select
        symbol,
        max(last_bar_at) as last_bar_at,
        sum(quote_count) as quote_count,
        sum(trade_count) as trade_count,
        sum(spike_count) as spike_count
    from {{ ref('int_daily_ohlc') }}
    group by symbol
)

select
    daily.symbol,
    daily.first_trade_date,
    daily.last_trade_date,
    daily.trading_days,
    daily.live_days,
    daily.last_close,
    live.last_bar_at,
    coalesce(live.quote_count, 0) as quote_count,
    coalesce(live.trade_count, 0) as trade_count,
    coalesce(live.spike_count, 0) as spike_count
from daily
left join live on daily.symbol = live.symbol
