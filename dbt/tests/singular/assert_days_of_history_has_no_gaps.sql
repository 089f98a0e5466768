-- Asserts that days_of_history counts each symbol's trading days 1, 2, 3, ... without gaps or repeats:
-- an incremental run that wrote a symbol's days out of step with its history would break every
-- warm-up rule and the exponential smoothing. Returns the rows out of sequence.
select
    symbol,
    trade_date,
    days_of_history
from {{ ref('fct_daily_prices') }}
qualify days_of_history != row_number() over (partition by symbol order by trade_date)
