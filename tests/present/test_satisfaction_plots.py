"""The satisfaction charts: every name sits on its own point, what is not drawn is said in
the chart, and every word is in the report's language."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from language_check import english_words

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.present.language import language
from crmkit.present.plots import satisfaction as sp

DIMENSIONS = [
    "dim_delivery_speed",
    "dim_after_sales",
    "dim_price",
    "dim_product_quality",
    "dim_service_quality",
]
# 2026-Q3 sample dimensions (weight in NPS, mean score), as the report computes them: in east
# service quality (3.80, 1%) and product quality (3.81, 3%) nearly touch, after sales is
# 0.13 to their left; the chart put "service quality" on the after-sales dot.
SAMPLES = {
    "east": ([0.869, 0.053, 0.037, 0.030, 0.010], [3.561, 3.669, 3.304, 3.810, 3.797]),
    "west": ([0.093, 0.087, 0.249, 0.345, 0.226], [3.563, 3.668, 3.313, 3.874, 3.665]),
    "north": ([0.161, 0.046, 0.152, 0.347, 0.294], [3.573, 3.695, 3.411, 3.859, 3.737]),
    "south": ([0.179, 0.073, 0.219, 0.300, 0.230], [3.583, 3.647, 3.391, 3.877, 3.794]),
    # two dimensions on one spot: no place beside either is nearer it than the other
    "same spot": ([0.40, 0.10, 0.20, 0.15, 0.15], [3.60, 3.70, 3.30, 3.81, 3.81]),
}


def quadrants(importance, performance) -> pd.DataFrame:
    table = pd.DataFrame(
        {"dimension": DIMENSIONS, "importance": importance, "performance": performance}
    )
    x_mid, y_mid = table["performance"].mean(), table["importance"].mean()
    table["quadrant"] = [
        ("keep it up" if y >= y_mid else "possible overkill")
        if x >= x_mid
        else ("fix first" if y >= y_mid else "low priority")
        for x, y in zip(table["performance"], table["importance"], strict=True)
    ]
    return table


def _distance(box, point) -> float:
    dx = max(box.x0 - point[0], 0.0, point[0] - box.x1)
    dy = max(box.y0 - point[1], 0.0, point[1] - box.y1)
    return float(np.hypot(dx, dy))


@pytest.mark.parametrize("code", ["en", "zh"])
@pytest.mark.parametrize("unit", list(SAMPLES))
def test_every_dimension_name_sits_on_its_own_point(unit, code):
    table = quadrants(*SAMPLES[unit])
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_importance_performance(table)
        ax.figure.canvas.draw()
        names = {sp.dimension_name(d): d for d in DIMENSIONS}
    points = {c.get_gid(): tuple(c.get_offsets()[0]) for c in ax.collections if c.get_gid()}
    assert set(points) == set(DIMENSIONS)
    for row in table.itertuples():  # the points are where the data says
        assert points[row.dimension] == pytest.approx((row.performance, row.importance))
    labels = {t.get_text(): t for t in ax.texts if t.get_text() in names}
    assert set(labels) == set(names)  # every dimension named once
    renderer = ax.figure.canvas.get_renderer()
    centres = {d: ax.transData.transform(xy) for d, xy in points.items()}
    for name, label in labels.items():
        dimension = names[name]
        # the annotation is anchored on its own point ...
        assert tuple(label.xy) == pytest.approx(points[dimension]), name
        # ... and its text is plainly nearer that point than any other, or drawn with a
        # line to it
        if label.arrow_patch is None:
            box = label.get_window_extent(renderer)
            own = _distance(box, centres[dimension])
            others = [_distance(box, c) for d, c in centres.items() if d != dimension]
            assert own < min(others), (unit, name, own, others)


def test_dimensions_on_one_spot_are_named_with_lines():
    with plt.rc_context(plots.theme_rc()):
        ax = plots.plot_importance_performance(quadrants(*SAMPLES["same spot"]))
    lined = [t.get_text() for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert lined and set(lined) <= {"product quality", "service quality"}


def test_unknown_dimension_shows_its_own_name_and_known_ones_their_terms():
    assert sp.dimension_name("dim_packaging") == "packaging"
    assert sp.dimension_name("dim_after_sales") == "after-sales service"
    with language("zh"):
        assert sp.dimension_name("dim_delivery_speed") == "配送速度"
        assert sp.quadrant_name("fix first") == "优先改进"


def _chart_words(ax) -> list[str]:
    ax.figure.canvas.draw()
    found = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in ax.texts]
    found += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    if legend:
        found += [t.get_text() for t in legend.get_texts()]
    return [f for f in found if f]


def _trend() -> pd.DataFrame:
    """Monthly NPS from Jan to Sep 2026 with April and August without responses."""
    months = pd.date_range("2026-01-01", "2026-09-01", freq="MS")
    months = months[~months.month.isin([4, 8])]
    values = np.linspace(20, 40, len(months))
    return pd.DataFrame(
        {
            "month": months,
            "responses": 50,
            "nps": values,
            "nps_low": values - 10,
            "nps_high": values + 10,
            "csat": 0.8,
            "csat_low": 0.7,
            "csat_high": 0.9,
        }
    )


def test_months_without_responses_are_named_in_the_trend_chart():
    period = parse_period("2026-Q3")
    trend = _trend()
    assert [m.month for m in sp.missing_months(trend, metric="nps", period=period)] == [4, 8]
    ax = plots.plot_score_trend(trend, metric="nps", period=period)
    assert "no responses in Apr 2026, Aug 2026: not drawn" in [t.get_text() for t in ax.texts]
    # the period without any NPS score: its months are named, not silently left blank
    blank = trend.assign(nps=np.where(trend["month"] >= "2026-07-01", np.nan, trend["nps"]))
    assert [m.month for m in sp.missing_months(blank, metric="nps", period=period)] == [4, 7, 8, 9]
    with language("zh"), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_score_trend(trend, metric="nps", period=period)
        words = _chart_words(ax)
    assert "2026年4月，2026年8月无回复，未绘制" in words
    assert english_words(words) == []


def test_a_group_without_nps_is_noted_not_dropped():
    table = pd.DataFrame(
        {
            "group": ["web", "store"],
            "responses": [40, 6],
            "nps": [12.0, np.nan],
            "nps_low": [-3.0, np.nan],
            "nps_high": [27.0, np.nan],
            "verdict": ["no clear difference", "too few to judge"],
        }
    )
    ax = plots.plot_nps_breakdown(table, title="NPS by touchpoint")
    notes = [t.get_text() for t in ax.texts]
    assert "6 responses, no NPS score: not drawn · too few to judge" in notes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["web", "store"]


@pytest.mark.parametrize("chart", ["nps", "csat", "drivers", "breakdown"])
def test_chinese_charts_hold_no_english(chart):
    with language("zh"), plt.rc_context(plots.theme_rc()):
        if chart in ("nps", "csat"):
            values = range(11) if chart == "nps" else range(1, 6)
            frame = pd.DataFrame({"score": list(values), "responses": 1, "share": 0.1})
            draw = plots.plot_nps_distribution if chart == "nps" else plots.plot_csat_distribution
            ax = draw(frame)
        elif chart == "drivers":
            ax = plots.plot_importance_performance(quadrants(*SAMPLES["east"]))
        else:
            table = pd.DataFrame(
                {
                    "group": ["华东", "华南"],
                    "responses": [40, 6],
                    "nps": [12.0, 30.0],
                    "nps_low": [-3.0, 5.0],
                    "nps_high": [27.0, 50.0],
                    "verdict": ["no clear difference", "too few to judge"],
                }
            )
            ax = plots.plot_nps_breakdown(table, title="各地区的净推荐值")
        words = _chart_words(ax)
    assert len(words) > 5
    assert english_words(words) == [], words


def _percent(label: str) -> float:
    """A share's tick label as a number: ``'87.5%'`` → ``0.875``."""
    return float(label.replace(",", "").replace("−", "-").rstrip("%")) / 100


@pytest.mark.parametrize("code", ["en", "zh"])
@pytest.mark.parametrize(
    "values",
    [
        (0.78, 0.95),  # matplotlib's default: ticks 2.5% apart, once labelled "88%" for 87.5%
        (0.82, 0.92),
        (0.80, 0.90),
        (0.86, 0.875),  # a narrow range: ticks under 1% apart need a decimal
        (0.9031, 0.9042),
        (0.35, 0.95),
        (0.0, 1.0),
    ],
)
def test_every_csat_trend_tick_label_is_its_tick_value(values, code):
    months = pd.date_range("2025-10-01", "2026-09-01", freq="MS")
    csat = np.linspace(*values, len(months))
    trend = pd.DataFrame(
        {
            "month": months,
            "responses": 80,
            "nps": 30.0,
            "nps_low": 20.0,
            "nps_high": 40.0,
            "csat": csat,
            "csat_low": csat - 0.02 * (values[1] - values[0]),
            "csat_high": csat + 0.02 * (values[1] - values[0]),
        }
    )
    with language(code), plt.rc_context(plots.theme_rc()):
        ax = plots.plot_score_trend(trend, metric="csat", period=parse_period("2026-Q3"))
        ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    ticks = [
        (tick.get_loc(), tick.label1.get_text())
        for tick in ax.yaxis.get_major_ticks()
        if low - 1e-12 <= tick.get_loc() <= high + 1e-12
    ]
    labelled = [(v, t) for v, t in ticks if t]
    assert len(labelled) >= 3, ticks
    for value, text in labelled:
        assert _percent(text) == pytest.approx(value, abs=1e-9), (text, value)
    # and the labels of one axis share their decimals
    assert len({len(t.rstrip("%").partition(".")[2]) for _, t in labelled}) == 1
