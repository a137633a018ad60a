"""The report's figures as PNG bytes (matplotlib, Agg: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.report import Report

GREEK_SERIES = (("net_delta", "net delta (shares)"), ("daily_theta", "theta per day (USD)"),
                ("vega", "vega (USD per vol point)"))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def equity_figure(report: Report) -> bytes | None:
    if not report.equity:
        return None
    figure, axis = plt.subplots(figsize=(8, 3))
    times, values = zip(*report.equity, strict=True)
    axis.plot(times, values, color="tab:blue")
    axis.set_title("Equity")
    axis.set_ylabel("USD")
    return _png(figure)


def drawdown_figure(report: Report) -> bytes | None:
    if not report.equity:
        return None
    peak, times, drawdowns = float("-inf"), [], []
    for moment, value in report.equity:
        peak = max(peak, value)
        times.append(moment)
        drawdowns.append((value / peak - 1.0) * 100 if peak else 0.0)
    figure, axis = plt.subplots(figsize=(8, 2.5))
    axis.fill_between(times, drawdowns, 0, color="tab:red", alpha=0.4)
    axis.set_title("Drawdown")
    axis.set_ylabel("%")
    return _png(figure)


def greeks_figure(report: Report) -> bytes | None:
    present = [(key, label) for key, label in GREEK_SERIES if report.series.get(key)]
    if not present:
        return None
    figure, axes = plt.subplots(len(present), 1, figsize=(8, 2.2 * len(present)), sharex=True, squeeze=False)
    for axis, (key, label) in zip(axes[:, 0], present, strict=True):
        times, values = zip(*report.series[key], strict=True)
        axis.plot(times, values)
        axis.set_ylabel(label, fontsize=8)
    axes[0, 0].set_title("Portfolio Greeks over time")
    return _png(figure)


def pnl_by_reason_figure(report: Report) -> bytes | None:
    table = report.tables["P&L by exit reason"]
    if table.empty:
        return None
    figure, axis = plt.subplots(figsize=(8, 3))
    colors = ["tab:green" if v >= 0 else "tab:red" for v in table["pnl"]]
    axis.bar([str(i) for i in table.index], table["pnl"], color=colors)
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_title("P&L by exit reason (gross, USD)")
    return _png(figure)


FIGURES: dict[str, Callable[[Report], bytes | None]] = {
    "equity": equity_figure,
    "drawdown": drawdown_figure,
    "greeks": greeks_figure,
    "pnl_by_reason": pnl_by_reason_figure,
}


def render_figures(report: Report) -> dict[str, bytes]:
    """Every figure there is data for, by name."""
    out = {}
    for name, draw in FIGURES.items():
        png = draw(report)
        if png is not None:
            out[name] = png
    return out
