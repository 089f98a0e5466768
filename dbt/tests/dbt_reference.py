"""Independent pandas/numpy computation of every indicator in `fct_daily_prices`, for the cross-checks.

Written from the textbook definitions with pandas' own recursive `ewm(adjust=False)`, rolling windows
and numpy, not from the SQL: the SQL uses a closed form with window functions (see
dbt/macros/exponential_smoothing.sql), so agreement checks the maths, not a transcription.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRADING_DAYS = 252


def wilder(values: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's smoothing: the mean of the first `period` values, then avg = (avg * (n-1) + x) / n."""
    out = np.full(len(values), np.nan)
    x = values.to_numpy(dtype=float)
    if len(x) > period:
        avg = x[1 : period + 1].mean()  # x[0] is the first day, which has no change
        out[period] = avg
        for i in range(period + 1, len(x)):
            avg = (avg * (period - 1) + x[i]) / period
            out[i] = avg
    return pd.Series(out, index=values.index)


def indicators(daily: pd.DataFrame) -> pd.DataFrame:
    """`daily`: one symbol's rows (trade_date, open, high, low, close, volume) sorted by date."""
    d = daily.sort_values("trade_date").reset_index(drop=True).copy()
    close = d["close"].astype(float)
    prev = close.shift(1)
    d["daily_return"] = close / prev - 1
    d["log_return"] = np.log(close / prev)
    d["sma_7"] = close.rolling(7).mean()
    d["sma_30"] = close.rolling(30).mean()
    d["ema_12"] = close.ewm(span=12, adjust=False).mean()
    d["ema_26"] = close.ewm(span=26, adjust=False).mean()
    d["macd"] = d["ema_12"] - d["ema_26"]
    d["macd_signal"] = d["macd"].ewm(span=9, adjust=False).mean()
    d["macd_histogram"] = d["macd"] - d["macd_signal"]
    change = close.diff()
    gain, loss = wilder(change.clip(lower=0)), wilder((-change).clip(lower=0))
    rs = gain / loss
    d["rsi_14"] = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), 100 - 100 / (1 + rs))
    d.loc[gain.isna(), "rsi_14"] = np.nan
    mid = close.rolling(20).mean()
    sd = close.rolling(20).std(ddof=0)  # Bollinger's bands use the population standard deviation
    d["bollinger_middle"], d["bollinger_upper"], d["bollinger_lower"] = mid, mid + 2 * sd, mid - 2 * sd
    d["volatility_30d"] = d["log_return"].rolling(30).std(ddof=1) * np.sqrt(TRADING_DAYS)
    d["high_52w"] = d["high"].rolling(TRADING_DAYS, min_periods=1).max()
    d["low_52w"] = d["low"].rolling(TRADING_DAYS, min_periods=1).min()
    d["pct_from_52w_high"] = close / d["high_52w"] - 1
    d["pct_from_52w_low"] = close / d["low_52w"] - 1
    avg_volume = d["volume"].astype(float).shift(1).rolling(20).mean()
    d["volume_ratio"] = d["volume"] / avg_volume.replace(0, np.nan)
    return d


INDICATORS = (
    "daily_return", "log_return", "sma_7", "sma_30", "ema_12", "ema_26", "macd", "macd_signal", "macd_histogram",
    "rsi_14", "bollinger_middle", "bollinger_upper", "bollinger_lower", "volatility_30d", "high_52w", "low_52w",
    "pct_from_52w_high", "pct_from_52w_low", "volume_ratio",
)  # fmt: skip
