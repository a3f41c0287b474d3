"""The churn-rate charts draw the numbers they are given, mark what is incomplete or missing,
and write every word in the report's language."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from language_check import english_words
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.metrics.churn_rates import churn_rates_analysis
from crmkit.metrics.churn_status import ChurnDefinition
from crmkit.present.format import pct
from crmkit.present.language import language

EVENTS = ChurnDefinition("events", None, "events")


def _unit(n: int = 400, seed: int = 5):
    """``n`` customers signed up over 2025–2026, ordering now and then; a third churn."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"k{i}" for i in range(n)])
    signup = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    people = pd.DataFrame({"customer_id": ids, "signup_date": signup})
    who = rng.integers(0, n, 3 * n)
    orders = pd.DataFrame(
        {
            "customer_id": ids[who],
            "order_date": signup[who] + pd.to_timedelta(rng.integers(0, 60, 3 * n), unit="D"),
            "amount": 10.0,
        }
    )
    gone = rng.random(n) < 0.33
    lost = pd.DataFrame(
        {
            "customer_id": ids[gone],
            "churned_at": signup[gone]
            + pd.to_timedelta(rng.integers(61, 300, gone.sum()), unit="D"),
        }
    )
    return people, orders, lost


def _texts(ax) -> list[str]:
    found = [t.get_text() for t in ax.figure.findobj(Text)]
    return [t for t in found if t.strip()]


@pytest.mark.parametrize("code", ["en", "zh"])
def test_trend_draws_each_month_with_its_band_and_shades_the_period(code):
    people, orders, lost = _unit()
    period = parse_period("2026-04-01..2026-06-15")
    rates = churn_rates_analysis(people, orders, lost, period=period, definition=EVENTS)
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_churn_trend(rates.trend, period=period)
        ax.figure.canvas.draw()
        line = ax.get_lines()[0]
        drawn = rates.trend.loc[rates.trend["active_at_start"] > 0]
        assert np.allclose(line.get_ydata(), drawn["churn_rate"])
        hollow = ax.get_lines()[1]  # June, cut at 15 June
        assert list(hollow.get_ydata()) == [rates.trend["churn_rate"].iloc[-1]]
        notes = " ".join(_texts(ax))
        if code == "en":
            assert "Jun 2026: to Jun 15, 2026 only" in notes
        else:
            assert "2026年6月：仅统计至 2026年6月15日" in notes
            assert english_words(_texts(ax)) == []
        assert ax.get_xlim()[1] >= plt.matplotlib.dates.date2num(pd.Timestamp("2026-06-15"))


def test_trend_names_months_without_customers_and_says_when_there_is_nothing():
    people, orders, lost = _unit()
    period = parse_period("2025-Q2")  # the first signup is on 1 Jan 2025
    rates = churn_rates_analysis(people, orders, lost, period=period, definition=EVENTS)
    with language("en"):
        ax = plots.plot_churn_trend(rates.trend, period=period)
        notes = " ".join(_texts(ax))
    # the months before the first signup, Jul 2024 to Jan 2025, named as one span
    assert "No customers active at the start of: Jul 2024–Jan 2025" in notes
    assert "Feb 2025" not in notes and "Aug 2024" not in notes
    nothing = rates.trend.assign(active_at_start=0, churn_rate=np.nan)
    with language("zh"):
        ax = plots.plot_churn_trend(nothing, period=period)
        assert "近 12 个月的月初均无活跃客户" in " ".join(_texts(ax))
        assert english_words(_texts(ax)) == []


@pytest.mark.parametrize("code", ["en", "zh"])
def test_heatmap_writes_each_share_and_hatches_months_not_yet_over(code):
    people, orders, lost = _unit()
    period = parse_period("2026-Q2")
    rates = churn_rates_analysis(people, orders, lost, period=period, definition=EVENTS)
    cohorts = rates.cohorts
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_cohort_heatmap(cohorts)
        ax.figure.canvas.draw()
        *written, note = [t.get_text() for t in ax.texts]
        assert note.startswith("Hatched" if code == "en" else "斜线格")
        shown = cohorts.loc[cohorts["months_since_signup"] <= 17]  # 18 months of signups
        expected = [
            pct(v, 0)
            for v in shown.sort_values(["signup_month", "months_since_signup"])["retention"]
            if not np.isnan(v)
        ]
        assert [t for t in written if t] == expected
        hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
        assert len(hatched) == int((~shown["complete"]).sum())
        rows = [t.get_text() for t in ax.get_yticklabels()]
        assert len(rows) == 18
        if code == "zh":
            assert rows[0] == f"2025年1月（{cohorts['customers'].iloc[0]} 位）"
            assert english_words(_texts(ax)) == []
        else:
            assert rows[0] == f"Jan 2025 ({cohorts['customers'].iloc[0]})"


def test_heatmap_of_cohorts_all_retained_keeps_a_scale_that_ends_at_100_percent():
    """A young unit where nobody has left: every cell 100%; the colour scale must not
    stretch past 100% (a share retained of 105% or 110% does not exist)."""
    cohorts = pd.DataFrame(
        {
            "signup_month": pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01"]),
            "months_since_signup": [0, 1, 0],
            "customers": [10, 10, 12],
            "retention": [1.0, 1.0, 1.0],
            "complete": [True, True, True],
        }
    )
    with language("en"):
        ax = plots.plot_cohort_heatmap(cohorts)
    low, high = ax.collections[0].get_clim()
    assert (low, high) == (0.95, 1.0)
    plt.close("all")


def test_trend_of_a_young_unit_names_its_empty_months_as_one_span():
    rows = pd.date_range("2025-10-01", "2026-09-01", freq="MS")
    active = [0] * 10 + [50, 80]
    trend = pd.DataFrame(
        {
            "month": rows,
            "month_end": rows + pd.offsets.MonthEnd(0),
            "complete": True,
            "active_at_start": active,
            "churned": 0,
            "churn_rate": [np.nan if a == 0 else 0.0 for a in active],
            "low": [np.nan if a == 0 else 0.0 for a in active],
            "high": [np.nan if a == 0 else 0.05 for a in active],
        }
    )
    with language("en"):
        ax = plots.plot_churn_trend(trend, period=parse_period("2026-Q3"))
        assert "No customers active at the start of: Oct 2025–Jul 2026" in _texts(ax)
    with language("zh"):
        ax = plots.plot_churn_trend(trend, period=parse_period("2026-Q3"))
        assert "以下月份月初无活跃客户：2025年10月–2026年7月" in _texts(ax)
    plt.close("all")


def test_heatmap_without_cohorts_says_so():
    people, orders, lost = _unit()
    rates = churn_rates_analysis(
        people, orders, lost, period=parse_period("2026-Q2"), definition=EVENTS
    )
    with language("en"):
        ax = plots.plot_cohort_heatmap(rates.cohorts.iloc[0:0])
        assert "No customer signed up in the last 24 months" in " ".join(_texts(ax))
