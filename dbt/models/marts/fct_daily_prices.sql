{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'trade_date'],
        incremental_strategy=incremental_strategy(),
        on_schema_change=on_schema_change(),
    )
}}
{#- Indicator parameters (the conventional ones; docs/models.md gives the formulas). -#}
{%- set trading_days_per_year = 252 -%}
{%- set day = 'partition by symbol order by trade_date' -%}
-- One row per symbol and trading day with its technical indicators. Warm-up rows (not enough
-- history for a window) carry null for that indicator. Every day is computed from the full daily
-- series (a few hundred rows per symbol and year); an incremental run writes only the days from the
-- first one per symbol that is new or whose inputs changed, so it always equals a full refresh.
with daily as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        source
    from {{ ref('int_daily_prices') }}
),

numbered as (
    select
        *,
        row_number() over ({{ day }}) - 1 as day_index,
        lag(close) over ({{ day }}) as prev_close
    from daily
),

changes as (
    select
        *,
        close / prev_close - 1 as daily_return,
        ln(close / prev_close) as log_return,
        case when prev_close is not null then greatest(close - prev_close, 0) end as gain,
        case when prev_close is not null then greatest(prev_close - close, 0) end as loss
    from numbered
),

windows as (
    select
        *,
        avg(close) over ({{ day }} rows between 6 preceding and current row) as sma_7_window,
        avg(close) over ({{ day }} rows between 19 preceding and current row) as sma_20_window,
        avg(close) over ({{ day }} rows between 29 preceding and current row) as sma_30_window,
        stddev_pop(close) over ({{ day }} rows between 19 preceding and current row) as stddev_20_window,
        stddev_samp(log_return) over ({{ day }} rows between 29 preceding and current row) as stddev_log_30_window,
        avg(gain) over ({{ day }} rows between 13 preceding and current row) as gain_14_window,
        avg(loss) over ({{ day }} rows between 13 preceding and current row) as loss_14_window,
        max(high) over ({{ day }} rows between 251 preceding and current row) as high_52w,
        min(low) over ({{ day }} rows between 251 preceding and current row) as low_52w,
        avg(volume) over ({{ day }} rows between 20 preceding and 1 preceding) as avg_volume_20d
    from changes
),

{% set keep = [
    'symbol', 'trade_date', 'day_index', 'open', 'high', 'low', 'close', 'volume', 'source', 'prev_close',
    'daily_return', 'log_return', 'sma_7_window', 'sma_20_window', 'sma_30_window', 'stddev_20_window',
    'stddev_log_30_window', 'high_52w', 'low_52w', 'avg_volume_20d',
] %}
{{ exponential_smoothing('windows', 'smoothed', 'symbol', 'day_index', keep, [
    {'name': 'ema_12', 'alpha': '(2.0 / 13)', 'term': 'case when day_index = 0 then close else (2.0 / 13) * close end'},
    {'name': 'ema_26', 'alpha': '(2.0 / 27)', 'term': 'case when day_index = 0 then close else (2.0 / 27) * close end'},
    {'name': 'avg_gain_14', 'alpha': '(1.0 / 14)',
     'term': 'case when day_index = 14 then gain_14_window when day_index > 14 then gain / 14 end'},
    {'name': 'avg_loss_14', 'alpha': '(1.0 / 14)',
     'term': 'case when day_index = 14 then loss_14_window when day_index > 14 then loss / 14 end'},
]) }},

with_macd as (
    select
        *,
        ema_12 - ema_26 as macd_line
    from smoothed
),

{{ exponential_smoothing('with_macd', 'signalled', 'symbol', 'day_index', keep + [
    'ema_12', 'ema_26', 'avg_gain_14', 'avg_loss_14', 'macd_line',
], [
    {'name': 'macd_signal_line', 'alpha': '0.2',
     'term': 'case when day_index = 0 then macd_line else 0.2 * macd_line end'},
]) }},

final as (
    select
        symbol,
        trade_date,
        day_index + 1 as days_of_history,
        open,
        high,
        low,
        close,
        volume,
        source,
        prev_close,
        {{ indicator('daily_return') }} as daily_return,
        {{ indicator('log_return') }} as log_return,
        {{ indicator('case when day_index >= 6 then sma_7_window end') }} as sma_7,
        {{ indicator('case when day_index >= 29 then sma_30_window end') }} as sma_30,
        {{ indicator('ema_12') }} as ema_12,
        {{ indicator('ema_26') }} as ema_26,
        {{ indicator('macd_line') }} as macd,
        {{ indicator('macd_signal_line') }} as macd_signal,
        {{ indicator('macd_line - macd_signal_line') }} as macd_histogram,
        {{ indicator('case when day_index >= 14 then avg_gain_14 end') }} as avg_gain_14,
        {{ indicator('case when day_index >= 14 then avg_loss_14 end') }} as avg_loss_14,
        {{ indicator("""
            case
                when day_index < 14 then null
                when avg_loss_14 = 0 and avg_gain_14 = 0 then 50.0
                when avg_loss_14 = 0 then 100.0
                else 100 - 100 / (1 + avg_gain_14 / avg_loss_14)
            end""") }} as rsi_14,
        {{ indicator('case when day_index >= 19 then sma_20_window end') }} as bollinger_middle,
        {{ indicator('case when day_index >= 19 then sma_20_window + 2 * stddev_20_window end') }} as bollinger_upper,
        {{ indicator('case when day_index >= 19 then sma_20_window - 2 * stddev_20_window end') }} as bollinger_lower,
        {{ indicator('case when day_index >= 30 then stddev_log_30_window * sqrt(' ~ trading_days_per_year ~ ') end') }}
            as volatility_30d,
        high_52w,
        low_52w,
        {{ indicator('close / high_52w - 1') }} as pct_from_52w_high,
        {{ indicator('close / low_52w - 1') }} as pct_from_52w_low,
        day_index >= 251 as has_full_52w,
        {{ indicator('case when day_index >= 20 then volume / nullif(avg_volume_20d, 0) end') }} as volume_ratio
    from signalled
),

-- Each symbol's first day that is new or whose inputs changed (late events, a backfill of older
-- history): that day and every later one are written, since every later indicator depends on it.
-- A full refresh writes every day.
first_changed as (
    select
        final.symbol,
        min(final.trade_date) as first_changed_date
    from final
    {% if is_incremental() -%}
        left join {{ this }} as existing
            on
                final.symbol = existing.symbol
                and final.trade_date = existing.trade_date
                and final.days_of_history = existing.days_of_history
                and final.close is not distinct from existing.close
                and final.open is not distinct from existing.open
                and final.high is not distinct from existing.high
                and final.low is not distinct from existing.low
                and final.volume is not distinct from existing.volume
        where existing.symbol is null
    {%- endif %}
    group by final.symbol
)

select final.*
from final
inner join first_changed
    on final.symbol = first_changed.symbol and final.trade_date >= first_changed.first_changed_date
