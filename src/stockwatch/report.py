"""`stockwatch report`: one self-contained HTML page from the marts, or the performance table as text.

Per symbol: close with SMA 7/30 and Bollinger bands, RSI 14 and MACD (12, 26, 9) as PNG charts
embedded in the page (base64), so the file can be mailed or opened offline; on top, a performance
table (last close, day / 30-day / 52-week change, 30-day volatility, RSI, distance from the 52-week
high). Everything is read from MARTS_STOCKS.FCT_DAILY_PRICES; nothing is recomputed here.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the report is written from CLIs, CronJobs and tests
import matplotlib.pyplot as plt
import pandas as pd
from rich.console import Console
from rich.table import Table

from stockwatch.config import MARTS_SCHEMA, SnowflakeSettings
from stockwatch.warehouse import connect

CHART_DAYS = 180  # trading days drawn per symbol
COLUMNS = (
    "symbol, trade_date, close, volume, sma_7, sma_30, bollinger_upper, bollinger_middle, bollinger_lower, "
    "rsi_14, macd, macd_signal, macd_histogram, volatility_30d, high_52w, low_52w, pct_from_52w_high, "
    "daily_return, source"
)


@dataclass(frozen=True)
class Performance:
    symbol: str
    as_of: str
    last_close: float
    day_change: float | None
    change_30d: float | None
    change_52w: float | None
    volatility_30d: float | None
    rsi_14: float | None
    pct_from_52w_high: float | None


def load_daily(settings: SnowflakeSettings, symbols: list[str] | None = None) -> pd.DataFrame:
    """The mart's rows (lower-case columns), oldest first; raises if the mart is empty."""
    sql = f"SELECT {COLUMNS} FROM {settings.database}.{MARTS_SCHEMA}.FCT_DAILY_PRICES"
    params: list[str] = []
    if symbols:
        sql += f" WHERE symbol IN ({', '.join(['%s'] * len(symbols))})"
        params = [s.upper() for s in symbols]
    with connect(settings) as conn:
        cur = conn.cursor()
        cur.execute(sql + " ORDER BY symbol, trade_date", params)
        frame = pd.DataFrame(cur.fetchall(), columns=[d[0].lower() for d in cur.description])
    if frame.empty:
        raise LookupError(
            f"{settings.database}.{MARTS_SCHEMA}.FCT_DAILY_PRICES has no rows: run `stockwatch dbt build`"
        )
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    numeric = [c for c in frame.columns if c not in ("symbol", "trade_date", "source")]
    frame[numeric] = frame[numeric].astype(float)
    return frame


def _change_since(rows: pd.DataFrame, days: int) -> float | None:
    """Close-to-close change against the last close at least `days` calendar days before the last row."""
    last = rows.iloc[-1]
    earlier = rows[rows.trade_date <= last.trade_date - pd.Timedelta(days=days)]
    return None if earlier.empty else float(last.close / earlier.iloc[-1].close - 1)


def _value(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def performance(frame: pd.DataFrame) -> list[Performance]:
    out: list[Performance] = []
    for symbol, rows in frame.groupby("symbol", sort=True):
        last = rows.iloc[-1]
        out.append(
            Performance(
                symbol=str(symbol),
                as_of=last.trade_date.date().isoformat(),
                last_close=float(last.close),
                day_change=_value(last.daily_return),
                change_30d=_change_since(rows, 30),
                change_52w=_change_since(rows, 365),
                volatility_30d=_value(last.volatility_30d),
                rsi_14=_value(last.rsi_14),
                pct_from_52w_high=_value(last.pct_from_52w_high),
            )
        )
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.2f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


TABLE_HEADERS = ("Symbol", "As of", "Close", "Day", "30 days", "52 weeks", "Vol 30d", "RSI 14", "vs 52w high")


def table_rows(perf: list[Performance]) -> list[tuple[str, ...]]:
    return [
        (
            p.symbol,
            p.as_of,
            _num(p.last_close),
            _pct(p.day_change),
            _pct(p.change_30d),
            _pct(p.change_52w),
            "n/a" if p.volatility_30d is None else f"{100 * p.volatility_30d:.1f}%",
            _num(p.rsi_14, 1),
            _pct(p.pct_from_52w_high),
        )
        for p in perf
    ]


def chart_png(symbol: str, rows: pd.DataFrame) -> bytes:
    """Price with SMA 7/30 and Bollinger bands, RSI 14 and MACD for the last CHART_DAYS rows."""
    d = rows.tail(CHART_DAYS)
    fig, (ax_price, ax_rsi, ax_macd) = plt.subplots(
        3, 1, figsize=(11, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.2, 1.4]}
    )
    band = {"color": "#9ecae1", "alpha": 0.35, "label": "Bollinger (20, 2 sd)"}
    ax_price.fill_between(d.trade_date, d.bollinger_lower, d.bollinger_upper, **band)
    ax_price.plot(d.trade_date, d.close, color="#08306b", linewidth=1.4, label="Close")
    ax_price.plot(d.trade_date, d.sma_7, color="#f16913", linewidth=1.0, label="SMA 7")
    ax_price.plot(d.trade_date, d.sma_30, color="#41ab5d", linewidth=1.0, label="SMA 30")
    ax_price.set_title(f"{symbol}: close, moving averages and Bollinger bands", loc="left", fontsize=11)
    ax_price.legend(loc="upper left", fontsize=8, ncols=4, frameon=False)
    ax_price.grid(alpha=0.25)
    ax_rsi.plot(d.trade_date, d.rsi_14, color="#6a51a3", linewidth=1.1)
    ax_rsi.axhline(70, color="#cb181d", linewidth=0.8, linestyle="--")
    ax_rsi.axhline(30, color="#238b45", linewidth=0.8, linestyle="--")
    ax_rsi.set_ylim(0, 100)
    ax_rsi.set_ylabel("RSI 14", fontsize=9)
    ax_rsi.grid(alpha=0.25)
    colors = ["#41ab5d" if h >= 0 else "#cb181d" for h in d.macd_histogram.fillna(0)]
    ax_macd.bar(d.trade_date, d.macd_histogram, color=colors, width=1.0, alpha=0.6, label="Histogram")
    ax_macd.plot(d.trade_date, d.macd, color="#08519c", linewidth=1.1, label="MACD (12, 26)")
    ax_macd.plot(d.trade_date, d.macd_signal, color="#fd8d3c", linewidth=1.1, label="Signal (9)")
    ax_macd.set_ylabel("MACD", fontsize=9)
    ax_macd.legend(loc="upper left", fontsize=8, ncols=3, frameon=False)
    ax_macd.grid(alpha=0.25)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


_CSS = """
body { font-family: -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto; max-width: 1040px;
       color: #1b1f24; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } .meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: 1rem 0 2rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f6f8fa; }
td.pos { color: #1a7f37; } td.neg { color: #cf222e; }
section { margin-bottom: 2.5rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #d0d7de; }
img { width: 100%; height: auto; }
"""


def _cell(value: str) -> str:
    css = " class='pos'" if value.startswith("+") else " class='neg'" if value.startswith("-") else ""
    return f"<td{css}>{html.escape(value)}</td>"


def render_html(frame: pd.DataFrame, database: str) -> str:
    perf = performance(frame)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in TABLE_HEADERS)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table_rows(perf))
    sections = []
    for symbol, rows in frame.groupby("symbol", sort=True):
        png = base64.b64encode(chart_png(str(symbol), rows)).decode()
        first, last = rows.trade_date.iloc[0].date(), rows.trade_date.iloc[-1].date()
        live = int((rows.source == "live").sum())
        sections.append(
            f"<section id='{html.escape(str(symbol))}'><h2>{html.escape(str(symbol))}</h2>"
            f"<p class='meta'>{len(rows)} trading days ({first} to {last}), {live} from live data.</p>"
            f"<img alt='{html.escape(str(symbol))} price, RSI and MACD' src='data:image/png;base64,{png}'></section>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>stockwatch report: {html.escape(database)}</title><style>{_CSS}</style></head><body>"
        f"<h1>stockwatch market report</h1><p class='meta'>{html.escape(database)}.{MARTS_SCHEMA}.FCT_DAILY_PRICES"
        f" · generated {generated}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{''.join(sections)}</body></html>"
    )


def write_report(settings: SnowflakeSettings, path: Path, symbols: list[str] | None = None) -> Path:
    """Write the HTML report to `path` (parents created) and return the path."""
    page = render_html(load_daily(settings, symbols), settings.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def print_table(settings: SnowflakeSettings, symbols: list[str] | None = None, console: Console | None = None) -> None:
    """The performance table, in the terminal."""
    table = Table(title=f"{settings.database}.{MARTS_SCHEMA} performance")
    for i, header in enumerate(TABLE_HEADERS):
        table.add_column(header, justify="left" if i < 2 else "right")
    for row in table_rows(performance(load_daily(settings, symbols))):
        table.add_row(
            *(f"[green]{v}[/]" if v.startswith("+") else f"[red]{v}[/]" if v.startswith("-") else v for v in row)
        )
    console = console or Console()
    console.width = max(console.width, 110)  # a pipe or a CronJob log is 80 columns: keep the table whole
    console.print(table)
