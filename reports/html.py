"""One self-contained HTML file: inline CSS, figures as base64 PNG data, no external asset."""

from __future__ import annotations

import base64
import html
import math

import pandas as pd

from reports.report import Report

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.problems { background: #fff4e5; border: 1px solid #f0b45b; padding: 0.5em 1em; }
img { max-width: 100%; }
"""


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if math.isnan(value):
            return ""
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return html.escape(str(value))


def frame_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>none</em></p>"
    names = [str(n) for n in frame.index.names if n is not None]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in [*(names or [""]), *map(str, frame.columns)])
    rows = []
    for index, *values in frame.itertuples(index=True, name=None):  # keeps each column's dtype (ints stay ints)
        keys = index if isinstance(index, tuple) else (index,)
        cells = "".join(f"<td>{_cell(k)}</td>" for k in keys) + "".join(f"<td>{_cell(v)}</td>" for v in values)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _pairs(values: dict[str, object]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_cell(v)}</td></tr>" for k, v in values.items())
    return f"<table>{rows}</table>"


def render_html(report: Report, figures: dict[str, bytes]) -> str:
    period = (f"{report.period[0]:%Y-%m-%d %H:%M} .. {report.period[1]:%Y-%m-%d %H:%M} UTC"
              if report.period else "no data")
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(report.title)}</h1>",
             f"<p>{html.escape(period)} &middot; from {html.escape('; '.join(report.sources))}</p>"]
    if report.problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in report.problems)
        parts.append(f"<div class='problems'><strong>Input problems</strong><ul>{items}</ul></div>")
    parts.append("<h2>Portfolio statistics (LEAN definitions)</h2>")
    parts.append(_pairs(dict(report.statistics.as_lean_names())))
    if report.lean_statistics:
        parts.append("<h3>As the result file reports them</h3>")
        parts.append(_pairs(dict(report.lean_statistics)))
    parts.append("<h2>Trades</h2>")
    parts.append(_pairs(dict(report.trade_summary)))
    for name, png in figures.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<h3>{html.escape(name.replace('_', ' '))}</h3>"
                     f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>")
    for name, frame in report.tables.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(frame_html(frame))
    parts.append("</body></html>")
    return "\n".join(parts)
