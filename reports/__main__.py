"""The options report of a run.

    python -m reports [--storage storage] [--result FILE] [--out backtests/report] [--title ...]

Reads the Object Store folder (state snapshot, audit trail, sampled charts) and/or a result file,
and writes ``report.html`` (self-contained), one PNG per figure and one CSV per table into --out.
Input problems (missing snapshot, torn audit line, NaN) are listed in the report, never fatal.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from reports.sources import RunData, load_result, load_storage

REPO_ROOT = Path(__file__).resolve().parent.parent


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def write_report(data: RunData, out: Path, title: str = "Options bot report") -> Path:
    """Write the HTML, PNGs and CSVs of ``data`` into ``out``; returns the HTML file."""
    from reports.html import render_html  # matplotlib is imported only when a report is drawn
    from reports.plots import render_figures
    from reports.report import build_report

    report = build_report(data, title)
    figures = render_figures(report)
    out.mkdir(parents=True, exist_ok=True)
    for name, png in figures.items():
        (out / f"{name}.png").write_bytes(png)
    for name, frame in report.tables.items():
        frame.to_csv(out / f"{_slug(name)}.csv")
    page = out / "report.html"
    page.write_text(render_html(report, figures), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", type=Path, default=None, help="Object Store folder (default storage/)")
    parser.add_argument("--result", type=Path, default=None, help="a result file (LEAN's or the harness's)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "backtests" / "report", help="output folder")
    parser.add_argument("--title", default="Options bot report")
    args = parser.parse_args(argv)
    data = RunData()
    storage = args.storage if args.storage is not None or args.result is not None else REPO_ROOT / "storage"
    if storage is not None:
        load_storage(storage, data)
    if args.result is not None:
        load_result(args.result, data)
    page = write_report(data, args.out, args.title)
    for problem in data.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"report: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
