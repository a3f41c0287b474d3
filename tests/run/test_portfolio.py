"""The portfolio and periods pages, from run records written by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from language_check import english_words, visible_text

from crmkit.core.periods import parse_period
from crmkit.present.language import language
from crmkit.run.portfolio import (
    figure_cell,
    fill_detail,
    format_change,
    format_figure,
    write_period_index,
    write_root_index,
)
from crmkit.topics.registry import KeyFigure

PERIOD = parse_period("2026-Q3")


def record(notebook: str, unit: str, results: dict, **extra) -> dict:
    return {
        "notebook": notebook,
        "business_unit": unit,
        "display_name": extra.pop("display_name", unit),
        "currency": extra.pop("currency", "USD"),
        "period": "2026-Q3",
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "status": extra.pop("status", "ok"),
        "reason": extra.pop("reason", ""),
        "language": extra.pop("language", "en"),
        "results": results,
        "flags": extra.pop("flags", []),
    }


def write_records(out: Path, *records: dict) -> Path:
    period_dir = out / "2026-Q3"
    for r in records:
        path = period_dir / r["business_unit"] / f"{r['notebook']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r, ensure_ascii=False))
    return period_dir


@pytest.mark.parametrize(
    ("value", "unit", "en", "zh"),
    [
        (1234.5, "money", "CN¥1,234", "¥1,234"),
        (0.81234, "share", "81.2%", "81.2%"),
        (32.4, "points", "+32", "+32"),
        (-5.6, "points", "−6", "−6"),
        (0.2, "points", "0", "0"),
        (12345, "count", "12,345", "12,345"),
        (41.6, "days", "42 days", "42 天"),
        ("lead->intent", "text", "lead->intent", "lead->intent"),
        (67.63, "score", "67.6", "67.6"),
        (
            {"red": 0.125, "amber": 0.3, "green": 0.575},
            "bands",
            # no-break spaces: a narrow cell breaks only after a band's '·'
            "red\u00a012.5%\u00a0· amber\u00a030.0%\u00a0· green\u00a057.5%",
            "红\u00a012.5%\u00a0· 黄\u00a030.0%\u00a0· 绿\u00a057.5%",
        ),
        ({"red": 0.1, "amber": None, "green": 0.9}, "bands", "–", "–"),
        (None, "money", "–", "–"),
        (float("nan"), "share", "–", "–"),
        ("n/a", "share", "n/a", "n/a"),
    ],
)
def test_figures_read_by_their_unit_in_each_language(value, unit, en, zh):
    for code, shown in (("en", en), ("zh", zh)):
        with language(code):
            assert format_figure(value, unit, currency="CNY") == shown


def test_band_shares_are_drawn_as_a_bar():
    figure = KeyFigure("health_bands", "health_band", "bands")
    record = {"status": "ok", "results": {"health_bands": {"red": 0.2, "amber": 0.3, "green": 0.5}}}
    with language("en"):
        cell = figure_cell(record, figure)
    assert cell.value == "red\u00a020.0%\u00a0· amber\u00a030.0%\u00a0· green\u00a050.0%"
    assert cell.bands == (("red", 0.2), ("amber", 0.3), ("green", 0.5))
    assert figure_cell({"status": "ok", "results": {}}, figure).bands == ()


def test_detail_is_filled_from_the_results():
    with language("en"):
        assert fill_detail("clv.over_months", {"horizon_months": 12}) == "over 12 months"
        assert fill_detail("clv.over_months", {}) == ""
        assert fill_detail("", {"horizon_months": 12}) == ""
        # churn says its inactivity threshold, and nothing where churn is recorded
        detail = "churn.portfolio_inactivity"
        assert fill_detail(detail, {"inactivity_days": 134}) == "134 days without an order"
        assert fill_detail(detail, {"inactivity_days": None}) == ""


WIN_RATE = KeyFigure("win_rate", "win_rate", "share", change="win_rate_change")
NPS = KeyFigure("nps", "nps", "points", change="nps_change")
REVENUE = KeyFigure("period_revenue", "period_revenue", "money", change="period_revenue_change")


@pytest.mark.parametrize(
    ("figure", "value", "change", "text", "tone"),
    [
        # a share falls 8 percentage points, significantly: bad news, in points
        (WIN_RATE, 0.006, {"delta": -0.08, "ci": None, "p_value": 0.0001}, "▼ 8.0 pts", "bad"),
        # the same fall, not significant: grey
        (WIN_RATE, 0.006, {"delta": -0.08, "ci": None, "p_value": 0.2}, "▼ 8.0 pts", "flat"),
        # money: relative to the previous value (110 now, 100 before: +10%)
        (REVENUE, 110.0, {"delta": 10.0, "ci": None, "p_value": 0.01}, "▲ 10.0%", "good"),
        # NPS points: one decimal under 10, so +53 → +51 reads 1.5, not 1
        (NPS, 51.0, {"delta": -1.5, "ci": [-4, 1], "p_value": 0.3}, "▼ 1.5 pts", "flat"),
        (NPS, -14.0, {"delta": -69.2, "ci": None, "p_value": 1e-9}, "▼ 69 pts", "bad"),
        # no p-value: shown, never coloured as certain
        (REVENUE, 90.0, {"delta": -10.0, "ci": None, "p_value": None}, "▼ 10.0%", "flat"),
    ],
)
def test_change_is_sized_by_unit_and_coloured_only_when_significant(
    figure, value, change, text, tone
):
    with language("en"):
        cell = format_change(change, figure, value)
    assert (cell.text, cell.tone) == (text, tone)


@pytest.mark.parametrize(
    ("figure", "value", "delta", "text"),
    [
        # CSAT 84.22% → 85.16% is written "84.2%" → "85.2%": 1.0 points, not the 0.94 rounded
        (KeyFigure("csat", "csat", "share", change="c"), 0.8516, 0.0094, "▲ 1.0 pts"),
        # NPS +23.96 → +31.04 is written +24.0 → +31.0 under a change of 10: 7.0, not 7.1
        (NPS, 31.04, 7.08, "▲ 7.0 pts"),
    ],
)
def test_a_change_in_points_is_the_difference_of_the_figures_as_the_reports_write_them(
    figure, value, delta, text
):
    with language("en"):
        cell = format_change({"delta": delta, "p_value": 0.2}, figure, value)
    assert cell.text == text


def test_falling_figure_where_down_is_good_is_good_news():
    churn = KeyFigure("churn_rate", "win_rate", "share", change="c", good_when="down")
    with language("en"):
        cell = format_change({"delta": -0.05, "p_value": 0.001}, churn, 0.1)
    assert cell.tone == "good"
    assert format_change(None, churn, 0.1) is None
    assert format_change({"delta": None}, churn, 0.1) is None


def flag(topic: str, key: str, *, bad: bool, kind: str, strength: float) -> dict:
    return {
        "topic": topic,
        "key": key,
        "kind": kind,
        "bad": bad,
        "strength": strength,
        "message": {"en": f"{key} message", "zh": f"{key} 提示"},
        "action": {"en": f"{key} action", "zh": f"{key} 建议"},
        "section": {"en": "Net Promoter Score", "zh": "净推荐值"},
        "p_value": 0.001 if kind == "change" else None,
        "values": {},
    }


def test_portfolio_shows_flags_figures_changes_and_reports(tmp_path: Path):
    out = tmp_path / "reports"
    east_flags = [
        flag("satisfaction", "csat_change", bad=False, kind="change", strength=9.0),
        flag("satisfaction", "nps_change", bad=True, kind="change", strength=4.0),
        flag("satisfaction", "fix_first", bad=True, kind="alert", strength=20.0),
    ]
    period_dir = write_records(
        out,
        record(
            "satisfaction",
            "east",
            {"nps": 32.4, "csat": 0.8123, "nps_change": {"delta": -20.0, "p_value": 0.001}},
            currency="CNY",
            display_name="华东事业部",
            language="zh",
            flags=east_flags,
        ),
        record(
            "clv",
            "east",
            {"mean_clv": 1234.5, "horizon_months": 12},
            currency="CNY",
            display_name="华东事业部",
            language="zh",
        ),
        record("clv", "west", {"mean_clv": 99.0}),  # no horizon: no detail
        record(
            "satisfaction",
            "west",
            {},
            status="failed",
            reason="DataError: column 'nps' <missing>",
        ),
    )
    page = write_period_index(period_dir, PERIOD).read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    # flags ranked: the significant bad change, then the bad alert, then the good change;
    # each links to the section of its report, in the report's language
    first, second, third = (
        page.index(f"{k} message") for k in ("nps_change", "fix_first", "csat_change")
    )
    assert first < second < third
    assert 'href="east/satisfaction.html#%E5%87%80%E6%8E%A8%E8%8D%90%E5%80%BC"' in page
    # arrows for changes, a dot for a figure past its alert level
    assert page.count('<span class="bad-mark">▼</span>') == 1
    assert page.count('<span class="bad-mark">●</span>') == 1
    assert page.count('<span class="good-mark">▲</span>') == 1
    assert "Nps_change action" in page and "提示" not in page  # actions capitalised
    # figures: money with its currency, the change coloured, the detail under it
    assert 'CN¥1,234</span><span class="detail">over 12 months</span>' in page
    assert "$99<" in page and "{horizon_months}" not in page
    assert '<span class="change bad" title="p = 0.001">▼ 20 pts</span>' in page
    assert "+32" in page and "81.2%" in page
    # west's failed run: its figures missing, the failure and its reason shown escaped
    assert "DataError: column &#39;nps&#39; &lt;missing&gt;" in page
    assert '<a class="failed" href="west/satisfaction.html">Satisfaction · failed</a>' in page
    assert '<a class="ok" href="east/clv.html">Lifetime value</a>' in page
    assert "1 report(s) failed" in page and "2 units" in page
    # no technical columns, titles in the registry's order
    assert "Rows dropped" not in page and "Behavioural clusters" not in page
    assert page.index("Predicted CLV") < page.index("NPS")
    assert "华东事业部" in page and "@font-face" in page


def test_portfolio_in_chinese(tmp_path: Path):
    period_dir = write_records(
        tmp_path / "reports",
        record(
            "satisfaction",
            "east",
            {"nps": 32.4, "csat": 0.8123},
            currency="CNY",
            flags=[flag("satisfaction", "nps_change", bad=True, kind="change", strength=4.0)],
        ),
    )
    page = write_period_index(period_dir, PERIOD, code="zh").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert "nps_change 提示" in page and "Nps_change 建议" in page
    assert english_words(visible_text(page), {"east", "nps_change", "Nps_change", "Q3"}) == []


def test_period_list_counts_runs_newest_first(tmp_path: Path):
    out = tmp_path / "reports"
    period_dir = write_records(out, record("clv", "east", {}, status="failed", reason="x"))
    write_period_index(period_dir, PERIOD)
    (out / "2026-Q2").mkdir()
    (out / "2026-Q2" / "index.html").write_text("old")
    page = write_root_index(out).read_text(encoding="utf-8")
    assert page.index("2026-Q3/index.html") < page.index("2026-Q2/index.html")
    assert "1 units, 1 reports" in page and '<span class="failed">1 failed</span>' in page
    assert "0 units, 0 reports</span>" in page


def test_a_reason_shared_by_a_units_failed_reports_is_shown_once_and_folded(tmp_path: Path):
    # A unit that cannot load fails every report with the same reason; printed under each
    # report it made the unit's row hundreds of pixels tall in the key-figures table.
    unreadable = "DataError: customers.csv lacks 'signup_date'"
    period_dir = write_records(
        tmp_path / "reports",
        *(
            record(topic, "broken", {}, status="failed", reason=unreadable)
            for topic in ("clv", "satisfaction", "funnel")
        ),
        record("clv", "west", {}, status="failed", reason="DataError: no orders"),
        record("satisfaction", "west", {}, status="failed", reason="DataError: no surveys"),
    )
    page = write_period_index(period_dir, PERIOD).read_text(encoding="utf-8")
    assert "5 report(s) failed" in page
    assert page.count('<a class="failed" href="broken/') == 3
    assert page.count("lacks &#39;signup_date&#39;") == 1
    assert page.count("DataError: no orders") == 1 and page.count("DataError: no surveys") == 1
    folded = re.findall(r"<details><summary>why it failed</summary>(.*?)</details>", page, re.S)
    assert len(folded) == 3 and all('class="reason"' in reason for reason in folded)
