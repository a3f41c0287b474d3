"""The portfolio and periods pages, from run records written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.core.periods import parse_period
from crmkit.run.portfolio import fill_detail, format_figure, write_period_index, write_root_index

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
        "results": results,
    }


def write_records(out: Path, *records: dict) -> Path:
    period_dir = out / "2026-Q3"
    for r in records:
        path = period_dir / r["business_unit"] / f"{r['notebook']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r, ensure_ascii=False))
    return period_dir


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (1234.5, "money", "1,234 CNY"),
        (0.81234, "share", "81.2%"),
        (32.4, "points", "+32"),
        (-5.6, "points", "-6"),
        (0.2, "points", "0"),
        (12345, "count", "12,345"),
        (41.6, "days", "42 days"),
        ("lead->intent", "text", "lead->intent"),
        (None, "money", "–"),
        (float("nan"), "share", "–"),
        ("n/a", "share", "n/a"),
    ],
)
def test_figures_read_by_their_unit(value, unit, shown):
    assert format_figure(value, unit, currency="CNY") == shown


def test_detail_is_filled_from_the_results():
    assert fill_detail("over {horizon_months} months", {"horizon_months": 12}) == "over 12 months"
    assert fill_detail("over {horizon_months} months", {}) == ""
    assert fill_detail("", {"horizon_months": 12}) == ""


def test_portfolio_formats_each_figure_by_unit_with_currency_and_detail(tmp_path: Path):
    out = tmp_path / "reports"
    period_dir = write_records(
        out,
        *(
            record(notebook, "east", results, currency="CNY", display_name="华东事业部")
            for notebook, results in [
                ("clv", {"mean_clv": 1234.5, "horizon_months": 12}),
                ("satisfaction", {"nps": 32.4, "csat": 0.8123}),
                ("funnel", {"win_rate": 0.25, "bottleneck_summary": "<b>intent</b> fell"}),
                ("data_quality", {"customers": 12345, "rows_dropped": 7}),
            ]
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
    assert '1,234 CNY<span class="detail">over 12 months</span>' in page
    assert '<td class="num">99 USD</td>' in page and "{horizon_months}" not in page
    assert "+32" in page and "81.2%" in page and "25.0%" in page
    assert "12,345" in page and '<td class="num">7</td>' in page
    assert "&lt;b&gt;intent&lt;/b&gt; fell" in page and "<b>intent</b>" not in page
    # west's failed survey run: its figures are missing, its reason shown escaped
    assert page.count('<td class="num">–</td>') >= 2
    assert "DataError: column &#39;nps&#39; &lt;missing&gt;" in page
    assert '<a class="failed" href="west/satisfaction.html">failed</a>' in page
    assert '<a class="ok" href="east/clv.html">ok · report</a>' in page
    assert "1 run(s) failed" in page and "2 unit(s)" in page
    # columns in the registry's order, titles from the registry
    assert page.index("Customer lifetime value") < page.index("Satisfaction and NPS")
    assert "华东事业部" in page and "@font-face" in page
    # a unit without a notebook's run shows a dash in its column
    assert page.count("<td>–</td>") == 2  # west has no funnel, no data_quality


def test_period_list_counts_runs_newest_first(tmp_path: Path):
    out = tmp_path / "reports"
    period_dir = write_records(out, record("clv", "east", {}, status="failed", reason="x"))
    write_period_index(period_dir, PERIOD)
    (out / "2026-Q2").mkdir()
    (out / "2026-Q2" / "index.html").write_text("old")
    page = write_root_index(out).read_text(encoding="utf-8")
    assert page.index("2026-Q3/index.html") < page.index("2026-Q2/index.html")
    assert "1 unit(s), 1 report(s), " in page and '<span class="failed">1 failed</span>' in page
    assert "0 unit(s), 0 report(s)</span>" in page
