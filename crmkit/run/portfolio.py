"""The index pages: a period's portfolio (units × key figures, status, links) and the list of
periods.

Both are rebuilt from the ``<notebook>.json`` records on disk, so a page always shows every
run of the period, including runs of earlier invocations (``--unit``/``--notebook`` subsets).
Which figures a topic shows, and how to read each, comes from the topic registry
(:class:`~crmkit.topics.registry.KeyFigure`); the pages are Jinja2 templates in
``templates/pages`` with autoescaping on.
"""

from __future__ import annotations

import glob
import json
import math
import string
from dataclasses import dataclass
from datetime import datetime
from numbers import Real
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crmkit.core.periods import Period
from crmkit.present.format import day, money, num, pct, shown_difference, signed
from crmkit.present.language import HTML_LANG, language, term, words
from crmkit.run.execute import atomic_write
from crmkit.run.html import render_page
from crmkit.topics.flags import ALERT, CHANGE, SIGNIFICANT, anchor, rank_flags
from crmkit.topics.registry import TOPICS, KeyFigure, topic_names

MISSING = "–"
MARKERS = {(CHANGE, True): "▼", (CHANGE, False): "▲", (ALERT, True): "●", (ALERT, False): "●"}
"""A flag's mark: arrows for changes on the previous period, a dot for a figure past its
alert level (not a change, so not an arrow)."""


@dataclass(frozen=True)
class ChangeCell:
    """A figure's change on the previous period: arrow and size, and how to colour it
    (``good``/``bad`` when significant, ``flat`` when it may be noise)."""

    text: str
    tone: str
    note: str = ""


@dataclass(frozen=True)
class FigureCell:
    """One key figure of one unit as the portfolio shows it: the value, in small type under
    it its detail ("over 12 months"), and its change on the previous period."""

    value: str
    detail: str = ""
    change: ChangeCell | None = None
    bands: tuple[tuple[str, float], ...] = ()  # (colour, share) of a ``bands`` figure's bar


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def format_figure(value: Any, unit: str, *, currency: str = "") -> str:
    """A key figure for reading, by its :class:`KeyFigure` unit, in the active language.

    ``money`` → ``'CN¥1,235'`` (the unit's currency), ``share`` → ``'12.3%'``, ``points``
    → ``'+32'`` (signed, NPS), ``count`` → ``'12,345'``, ``days`` → ``'42 days'``, ``score``
    → ``'67.6'``, ``bands`` → ``'red 12% · amber 30% · green 58%'``, ``text`` as is (the page
    escapes it). Missing values, and numbers that are not finite, → ``'–'``;
    a value of the wrong kind for its unit is shown as text rather than hidden.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if unit == "bands" and isinstance(value, dict):
        shares = {band: value.get(band) for band in ("red", "amber", "green")}
        if not all(_is_number(share) for share in shares.values()):
            return MISSING
        return words("portfolio.health_bands", **{b: pct(v) for b, v in shares.items()})
    if unit == "text" or not _is_number(value):
        return str(value)
    if unit == "money":
        return money(value, currency)
    if unit == "share":
        return pct(value)
    if unit == "points":
        return signed(value)
    if unit == "count":
        return num(value)
    if unit == "days":
        return words("portfolio.days", n=num(value))
    if unit == "score":
        return num(value, 1)
    return num(value, 2)


def format_change(change: Any, figure: KeyFigure, value: Any) -> ChangeCell | None:
    """The change on the previous period, ``{delta, ci, p_value}`` as the topic published it:
    shares in percentage points, NPS in points, money and counts relative to the previous
    value; ``None`` when there is no change to show.

    Points are the difference of the two periods' figures as the reports write them beside
    the change (:func:`~crmkit.present.format.shown_difference`; shares to 0.1 points, NPS
    to 0.1 below a change of 10), so the portfolio and the report read the same change."""
    if not isinstance(change, dict) or not _is_number(change.get("delta")):
        return None
    delta = float(change["delta"])
    if figure.unit in ("share", "points", "score") and _is_number(value):
        scale = 100 if figure.unit == "share" else 1
        digits = 1 if figure.unit == "share" or abs(delta) < 10 else 0
        delta = shown_difference(float(value) * scale, (float(value) - delta) * scale, digits)
        key = "portfolio.share_points" if figure.unit == "share" else "portfolio.score_points"
        size = words(key, size=num(abs(delta), digits))
    elif _is_number(value) and float(value) - delta != 0:
        size = pct(abs(delta) / abs(float(value) - delta))
    else:
        return None
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    p = change.get("p_value")
    if not _is_number(p) or p >= SIGNIFICANT or delta == 0:
        return ChangeCell(f"{arrow} {size}", "flat", words("portfolio.not_significant"))
    good = (delta > 0) == (figure.good_when == "up")
    return ChangeCell(f"{arrow} {size}", "good" if good else "bad", f"p = {num(p, 3)}")


def fill_detail(key: str, results: dict[str, Any]) -> str:
    """A figure's detail: catalogue text ``key`` with its ``{placeholders}`` filled from the
    run's results; empty when there is no key or the run lacks a value it names (absent or
    null: churn's inactivity days are null where churn is recorded)."""
    if not key:
        return ""
    text = words(key)
    names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    if any(results.get(name) is None for name in names):
        return ""
    try:
        return text.format_map(results)
    except (KeyError, IndexError, ValueError, AttributeError):
        return ""


def figure_cell(record: dict | None, figure: KeyFigure) -> FigureCell:
    """How one unit's run shows ``figure``: its value from a successful run, or '–'."""
    if not record or record.get("status") != "ok":
        return FigureCell(MISSING)
    results = record.get("results") or {}
    value = results.get(figure.key)
    shown = format_figure(value, figure.unit, currency=str(record.get("currency") or ""))
    if shown == MISSING:
        return FigureCell(MISSING)
    change = format_change(results.get(figure.change), figure, value) if figure.change else None
    bands = ()
    if figure.unit == "bands":  # format_figure has checked the three shares
        bands = tuple((band, float(value[band])) for band in ("red", "amber", "green"))
    return FigureCell(shown, fill_detail(figure.detail, results), change, bands)


def read_records(period_dir: Path, unit: str | None = None) -> dict[str, dict[str, dict]]:
    """``{unit: {notebook: json record}}`` for every run written under ``period_dir`` (of
    the one ``unit``, if given)."""
    records: dict[str, dict[str, dict]] = {}
    folders = "*" if unit is None else glob.escape(unit)
    for path in sorted(period_dir.glob(f"{folders}/*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        records.setdefault(path.parent.name, {})[path.stem] = record
    return records


def unit_flags(unit: str, by_notebook: dict[str, dict], code: str) -> list[dict[str, Any]]:
    """A unit's ranked flags from all its reports (:func:`crmkit.topics.flags.rank_flags`),
    in language ``code``, each with a link to the section of the report that shows it."""
    flags = []
    for notebook, record in by_notebook.items():
        if record.get("status") != "ok":
            continue
        for flag in record.get("flags") or []:
            flags.append({**flag, "notebook": notebook, "unit_language": record.get("language")})
    shown = []
    for flag in rank_flags(flags):
        section = flag["section"].get(flag["unit_language"] or "en") or ""
        shown.append(
            {
                "bad": flag["bad"],
                "marker": MARKERS[(flag["kind"], flag["bad"])],
                "message": flag["message"].get(code) or next(iter(flag["message"].values())),
                "action": _capitalised(
                    flag["action"].get(code) or next(iter(flag["action"].values()))
                ),
                "href": quote(f"{unit}/{flag['notebook']}.html") + "#" + anchor(section),
            }
        )
    return shown


def write_period_index(period_dir: Path, period: Period, *, code: str = "en") -> Path:
    """The portfolio page, in language ``code``: per unit, what changed and what to do (its
    ranked flags), then one row per unit with its key figures, their change on the previous
    period, and its reports."""
    records = read_records(period_dir)
    topics = [TOPICS[n] for n in topic_names() if any(n in r for r in records.values())]
    figures = [(t.name, figure) for t in topics for figure in t.key_figures]
    rows = []
    failures = 0
    with language(code):
        for unit, by_notebook in sorted(records.items()):
            runs = []
            for topic in topics:
                record = by_notebook.get(topic.name)
                if record is None:
                    continue
                failed = record.get("status") != "ok"
                failures += failed
                runs.append(
                    {
                        "title": words(f"portfolio.topic_{topic.name}"),
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
                    # a unit that cannot load fails every report for one reason: said once
                    "reasons": list(
                        dict.fromkeys(r["reason"] for r in runs if r["status"] == "failed")
                    ),
                    "flags": unit_flags(unit, by_notebook, code),
                    "incomplete": any(r["status"] == "failed" for r in runs),
                }
            )
        page = render_page(
            "portfolio.html.j2",
            html_lang=HTML_LANG[code],
            text=_page_words(period, len(rows), failures),
            figures=[_capitalised(term(figure.label)) for _, figure in figures],
            rows=rows,
        )
    path = period_dir / "index.html"
    atomic_write(path, page)
    return path


def _capitalised(name: str) -> str:
    """A glossary name as a column title: ``'win rate'`` → ``'Win rate'`` (``'NPS'`` as is)."""
    return name[:1].upper() + name[1:]


def _page_words(period: Period, units: int, failures: int) -> dict[str, str]:
    """The portfolio's own words, in the active language."""
    names = [
        "flags_heading",
        "flags_none",
        "flags_failed",
        "figures_heading",
        "unit",
        "reports",
        "failed",
        "why_failed",
        "open_report",
        "change_legend",
        "all_periods",
    ]
    return {
        **{name: words(f"portfolio.{name}") for name in names},
        "title": words("portfolio.title", period=period.label),
        "period_line": words(
            "portfolio.period_line",
            start=day(period.start),
            end=day(period.end),
            previous_start=day(period.previous_start),
            previous_end=day(period.previous_end),
        ),
        "units": words("portfolio.units", n=num(units)),
        "status": (
            words("portfolio.failed_runs", n=num(failures))
            if failures
            else words("portfolio.all_ok")
        ),
        "failures": str(failures),
        "generated": words("portfolio.generated", when=f"{datetime.now():%Y-%m-%d %H:%M}"),
    }


def write_root_index(out: Path, *, code: str = "en") -> Path:
    """The list of periods with reports, newest first, in language ``code``."""
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
    with language(code):
        for period in periods:
            period["line"] = words(
                "portfolio.periods_line", units=num(period["units"]), reports=num(period["reports"])
            )
            period["failed_text"] = (
                words("portfolio.periods_failed", n=num(period["failed"]))
                if period["failed"]
                else ""
            )
        page = render_page(
            "periods.html.j2",
            html_lang=HTML_LANG[code],
            title=words("portfolio.periods_title"),
            periods=periods,
        )
    path = out / "index.html"
    atomic_write(path, page)
    return path
