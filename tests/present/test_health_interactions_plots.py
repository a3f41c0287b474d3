"""Charts of the health review's interactions and costs: they draw the figures given, in the
report's language, and say so inside the chart when there is nothing to draw."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import crmkit.present.plots as plots
from crmkit.core.periods import parse_period
from crmkit.present.language import language

Q3 = parse_period("2026-Q3")


def distribution():
    counts = np.array([5, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    return pd.DataFrame(
        {
            "interactions": np.arange(11),
            "open_ended": np.arange(11) == 10,
            "customers": counts,
            "share": counts / counts.sum(),
        }
    )


def trend():
    months = pd.date_range("2025-10-01", "2026-09-01", freq="MS")
    per = np.linspace(0.3, 0.2, 12)
    per[0] = np.nan  # before the records
    return pd.DataFrame(
        {
            "month": months,
            "month_end": months + pd.offsets.MonthEnd(0),
            "complete": [True] * 11 + [False],
            "interactions": per * 100,
            "active": 100,
            "per_customer": per,
        }
    )


def followed():
    return pd.DataFrame(
        {
            "channel": pd.array(["电话", "邮件", None], dtype="string"),
            "interactions": [100, 50, 10],
            "followed": [40, 10, 1],
            "share": [0.4, 0.2, 0.1],
            "low": [0.31, 0.11, 0.02],
            "high": [0.5, 0.33, 0.4],
            "rest_share": [0.18, 0.36, 0.33],
            "difference": [0.22, -0.16, -0.23],
            "p_value": [0.001, 0.04, 0.2],
            "p_holm": [0.003, 0.08, 0.2],
        }
    )


def spend():
    months = pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01", "2026-09-01"])
    return pd.DataFrame(
        {
            "month": months,
            "category": pd.Categorical(
                ["acquisition", "service", "retention", "acquisition"],
                categories=["acquisition", "retention", "service"],
            ),
            "amount": [100.0, 50.0, 70.0, 80.0],
        }
    )


def texts(ax):
    found = [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    found += [c.get_text() for c in ax.get_children() if hasattr(c, "get_text")]
    legend = ax.get_legend()
    return found + ([t.get_text() for t in legend.get_texts()] if legend else [])


def test_distribution_bars_are_the_shares_with_the_last_bin_open_ended():
    with language("zh"):
        ax = plots.plot_interactions_per_customer(distribution())
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.5, 0.3, 0.1] + [0] * 7 + [0.1])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "10+" and "互动次数分布" in ax.get_title()


def test_trend_leaves_out_months_without_a_value_and_names_the_cut_month():
    with language("en"):
        ax = plots.plot_interaction_trend(trend(), period=Q3)
    line = ax.get_lines()[0]
    assert len(line.get_xdata()) == 11
    assert any("Sep 2026: to Sep 30, 2026 only" in t for t in texts(ax))


def test_purchase_after_bars_have_their_intervals_and_the_overall_line():
    with language("zh"):
        ax = plots.plot_purchase_after(followed(), overall=0.32, days=30)
    bars = [p.get_width() for p in ax.patches]
    assert bars == pytest.approx([0.4, 0.2, 0.1])
    vertical = [line for line in ax.get_lines() if list(line.get_xdata()) == [0.32, 0.32]]
    assert vertical
    found = texts(ax)
    assert any("全部渠道：32.0%" in t for t in found)
    assert "电话（100）" in found and "（未记录）（10）" in found


def test_spend_stacks_categories_per_month():
    with language("en"):
        ax = plots.plot_spend_by_category(spend(), period=Q3, currency="USD")
    # three categories × three months; July: acquisition 100 then retention 0 then service 50
    heights = [p.get_height() for p in ax.patches if p.get_height() > 0 and p.get_width() < 40]
    assert sorted(heights) == [50.0, 70.0, 80.0, 100.0]
    assert {"acquisition", "retention", "service"} <= set(texts(ax))
    assert ax.get_ylabel() == "spend (USD)"


@pytest.mark.parametrize(
    ("draw", "empty", "words"),
    [
        (plots.plot_interactions_per_customer, distribution().iloc[0:0], "No customer was active"),
        (lambda d: plots.plot_interaction_trend(d, period=Q3), trend().assign(per_customer=np.nan),
         "No month"),
        (lambda d: plots.plot_purchase_after(d, overall=float("nan"), days=30),
         followed().iloc[0:0], "No interaction"),
        (lambda d: plots.plot_spend_by_category(d, period=Q3), spend().iloc[0:0], "No spend"),
    ],
)  # fmt: skip
def test_charts_without_data_say_so(draw, empty, words):
    with language("en"):
        ax = draw(empty)
    assert any(t.startswith(words) for t in texts(ax))
