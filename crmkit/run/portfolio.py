"""The index pages: a period's portfolio (units × key figures, status, links) and the list of
periods.

Both are rebuilt from the ``<notebook>.json`` records on disk, so a page always shows every
run of the period, including runs of earlier invocations (``--unit``/``--notebook`` subsets).
Which figures a topic shows, and how to read each, comes from the topic registry
(:class:`~crmkit.topics.registry.KeyFigure`); the pages are Jinja2 templates in
``templates/pages`` with autoescaping on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from numbers import Real
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crmkit.core.periods import Period
from crmkit.present.format import money, num, pct
from crmkit.run.execute import atomic_write
from crmkit.run.html import render_page
from crmkit.topics.registry import TOPICS, KeyFigure, topic_names

MISSING = "–"


@dataclass(frozen=True)
class FigureCell:
    """One key figure of one unit as the portfolio shows it: the value and, in small type
    under it, its detail ("over 12 months")."""

    value: str
    detail: str = ""


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def format_figure(value: Any, unit: str, *, currency: str = "") -> str:
    """A key figure for reading, by its :class:`KeyFigure` unit.

    ``money`` → ``'1,235 CNY'`` (the unit's currency), ``share`` → ``'12.3%'``, ``points``
    → ``'+32'`` (signed, NPS), ``count`` → ``'12,345'``, ``days`` → ``'42 days'``, ``text``
    as is (the page escapes it). Missing values, and numbers that are not finite, → ``'–'``;
    a value of the wrong kind for its unit is shown as text rather than hidden.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if unit == "text" or not _is_number(value):
        return str(value)
    if unit == "money":
        return money(value, currency)
    if unit == "share":
        return pct(value)
    if unit == "points":
        points = round(value)
        return f"{points:+d}" if points else "0"
    if unit == "count":
        return num(value)
    if unit == "days":
        return f"{num(value)} days"
    return num(value, 2)


def fill_detail(template: str, results: dict[str, Any]) -> str:
    """A figure's detail with its ``{key}`` placeholders filled from the run's results; empty
    when the template is empty or names a result the run does not have."""
    if not template:
        return ""
    try:
        return template.format_map(results)
    except (KeyError, IndexError, ValueError, AttributeError):
        return ""


def figure_cell(record: dict | None, figure: KeyFigure) -> FigureCell:
    """How one unit's run shows ``figure``: its value from a successful run, or '–'."""
    if not record or record.get("status") != "ok":
        return FigureCell(MISSING)
    results = record.get("results") or {}
    value = format_figure(
        results.get(figure.key), figure.unit, currency=str(record.get("currency") or "")
    )
    detail = fill_detail(figure.detail, results) if value != MISSING else ""
    return FigureCell(value, detail)


def read_records(period_dir: Path) -> dict[str, dict[str, dict]]:
    """``{unit: {notebook: json record}}`` for every run written under ``period_dir``."""
    records: dict[str, dict[str, dict]] = {}
    for path in sorted(period_dir.glob("*/*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        records.setdefault(path.parent.name, {})[path.stem] = record
    return records


def write_period_index(period_dir: Path, period: Period) -> Path:
    """The portfolio page: one row per unit, its key figures, each report's status and link."""
    records = read_records(period_dir)
    topics = [TOPICS[n] for n in topic_names() if any(n in r for r in records.values())]
    figures = [(t.name, figure) for t in topics for figure in t.key_figures]
    rows = []
    failures = 0
    for unit, by_notebook in sorted(records.items()):
        runs = []
        for topic in topics:
            record = by_notebook.get(topic.name)
            if record is None:
                runs.append(None)
                continue
            failed = record.get("status") != "ok"
            failures += failed
            runs.append(
                {
                    "status": "failed" if failed else "ok",
                    "href": quote(f"{unit}/{topic.name}.html"),
                    "reason": str(record.get("reason", ""))[:300],
                }
            )
        first = next(iter(by_notebook.values()))
        rows.append(
            {
                "unit": unit,
                "name": first.get("display_name") or unit,
                "figures": [figure_cell(by_notebook.get(n), f) for n, f in figures],
                "runs": runs,
            }
        )
    page = render_page(
        "portfolio.html.j2",
        period=period,
        topics=topics,
        figures=[figure for _, figure in figures],
        rows=rows,
        failures=failures,
        generated=f"{datetime.now():%Y-%m-%d %H:%M}",
    )
    path = period_dir / "index.html"
    atomic_write(path, page)
    return path


def write_root_index(out: Path) -> Path:
    """The list of periods with reports, newest first."""
    periods = []
    for period_dir in sorted(
        (p for p in out.iterdir() if (p / "index.html").exists()),
        key=lambda p: p.name,
        reverse=True,
    ):
        records = read_records(period_dir)
        runs = [r for by_notebook in records.values() for r in by_notebook.values()]
        periods.append(
            {
                "name": period_dir.name,
                "units": len(records),
                "reports": len(runs),
                "failed": sum(r.get("status") != "ok" for r in runs),
            }
        )
    path = out / "index.html"
    atomic_write(path, render_page("periods.html.j2", periods=periods))
    return path
