import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crmkit import plots
from crmkit.core.periods import parse_period
from crmkit.present.fonts import font_face_css, wide_characters
from crmkit.present.language import language
from crmkit.present.plots import satisfaction as satisfaction_plots


def test_chinese_labels_render_without_missing_glyphs():
    with plt.rc_context(plots.theme_rc()):
        fig, ax = plt.subplots()
        ax.bar(["华东", "华南", "线上商城"], [3, 5, 2])
        ax.set_title("各区域客户数（潜在客户 → 成交客户）")
        ax.set_xlabel("区域")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
            fig.canvas.draw()


def test_default_font_would_have_missed_the_glyphs():
    # Guards the test above: without the theme, DejaVu Sans lacks these glyphs.
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("华东")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.canvas.draw()


def test_theme_leaves_global_state_alone_until_asked():
    before = plt.rcParams["font.sans-serif"][:]
    plots.theme_rc()
    assert plt.rcParams["font.sans-serif"] == before


def test_monthly_volume_panels():
    volume = pd.DataFrame(
        {
            "table": ["customers"] * 3 + ["transactions"] * 3,
            "month": list(pd.date_range("2026-07-01", periods=3, freq="MS")) * 2,
            "rows": [1, 2, 3, 10, 20, 30],
        }
    )
    with language("zh"):
        fig = plots.plot_monthly_volume(volume, period=parse_period("2026-Q3"))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["客户", "订单"]
    assert visible[1].lines[0].get_ydata().tolist() == [10, 20, 30]
    # no January in the window: the first month is named, in the report's language
    assert [t.get_text() for t in visible[0].get_xticklabels()] == ["2026年7月"]
    assert visible[0].get_ylabel() == "每月行数"
    assert fig.get_suptitle() == "各数据表每月记录数（阴影为本期）"


def test_count_axes_tick_whole_numbers_once_each():
    """A table with no rows in the window, and one of a few rows: each count axis labels
    distinct whole numbers (a zero range read "0 0 0 0", a small one "0 0 1 1 2")."""
    volume = pd.DataFrame(
        {
            "table": ["tickets"] * 3 + ["surveys"] * 3,
            "month": list(pd.date_range("2026-07-01", periods=3, freq="MS")) * 2,
            "rows": [0, 0, 0, 0, 2, 1],
        }
    )
    fig = plots.plot_monthly_volume(volume, period=parse_period("2026-Q3"))
    fig.canvas.draw()
    for ax in fig.axes[:2]:
        bottom, top = ax.get_ylim()
        shown = [
            t.get_text()
            for t, v in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)
            if bottom - 1e-9 <= v <= top + 1e-9
        ]
        assert len(shown) >= 2 and len(set(shown)) == len(shown), shown
        assert all(float(v).is_integer() for v in ax.get_yticks())


def test_font_subset_only_for_wide_text():
    assert wide_characters("abc 华东华东，") == "东华，"
    assert font_face_css("plain ASCII") == ""
    css = font_face_css("华东事业部")
    assert css.startswith("@font-face") and "data:font/woff2;base64," in css
    assert len(css) < 60_000
    # the embedded WOFF2 is a font holding exactly the page's glyphs
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    data = base64.b64decode(re.search(r"base64,([^)]*)\)", css).group(1))
    font = TTFont(io.BytesIO(data))
    assert font.flavor == "woff2"
    assert {chr(c) for c in font.getBestCmap()} >= set("华东事业部")


def test_funnel_chart_draws_both_periods_with_chinese_stages():
    current = pd.DataFrame(
        {
            "stage": ["潜在客户", "意向客户", "成交客户"],
            "reached": [100, 60, 20],
            "step_conversion": [float("nan"), 0.6, 0.4],
        }
    )
    previous = current.assign(reached=[90, 50, 25])
    with plt.rc_context(plots.theme_rc()):
        ax = plots.plot_funnel(current, previous)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ax.figure.canvas.draw()
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [100, 60, 20, 90, 50, 25]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["潜在客户", "意向客户", "成交客户"]
    assert any("60% of those decided" in t.get_text() for t in ax.texts)


def test_group_intervals_colour_by_verdict():
    table = pd.DataFrame(
        {
            "group": ["web", "store", "phone"],
            "responses": [40, 40, 5],
            "nps": [100.0, -100.0, 20.0],
            "nps_low": [90.0, -100.0, -20.0],
            "nps_high": [100.0, -90.0, 60.0],
            "verdict": ["NPS above the rest", "NPS below the rest", "too few to judge"],
        }
    )
    ax = plots.plot_nps_breakdown(table, title="NPS by touchpoint")
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert [p.get_color() for p in points] == [plots.PALETTE[2], "#999", plots.PALETTE[3]]
    assert "5 responses · too few to judge" in [t.get_text() for t in ax.texts]


def test_importance_performance_labels_quadrants():
    quadrants = pd.DataFrame(
        {
            "dimension": ["dim_delivery_speed", "dim_price"],
            "importance": [0.8, 0.2],
            "performance": [3.2, 4.1],
            "quadrant": ["fix first", "possible overkill"],
        }
    )
    ax = plots.plot_importance_performance(quadrants)
    texts = [t.get_text() for t in ax.texts]
    assert {"delivery speed", "price", "fix first", "keep it up"} <= set(texts)


@pytest.mark.parametrize(
    "importance, performance",
    [
        # west 2026-Q3: delivery speed and after sales 0.1 apart in score, 0.6 pts in weight
        ([0.345, 0.249, 0.093, 0.087], [3.87, 3.31, 3.56, 3.67]),
        # east 2026-Q3: three dimensions near zero weight, two of them at 3.8, in a corner
        ([0.030, 0.037, 0.869, 0.053], [3.81, 3.30, 3.56, 3.67]),
    ],
)
def test_point_names_stay_inside_and_cover_no_other_text(importance, performance):
    dimensions = ["dim_product_quality", "dim_price", "dim_delivery_speed", "dim_after_sales"]
    quadrants = pd.DataFrame(
        {
            "dimension": [*dimensions, "dim_service_quality"],
            "importance": [*importance, 0.010],
            "performance": [*performance, 3.80],
        }
    )
    x_mid, y_mid = quadrants["performance"].mean(), quadrants["importance"].mean()
    quadrants["quadrant"] = [
        ("keep it up" if y >= y_mid else "possible overkill")
        if x >= x_mid
        else ("fix first" if y >= y_mid else "low priority")
        for x, y in zip(quadrants["performance"], quadrants["importance"], strict=True)
    ]
    with plt.rc_context(plots.theme_rc()):
        ax = plots.plot_importance_performance(quadrants)
        ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    names = {satisfaction_plots.dimension_name(d) for d in quadrants["dimension"]}
    assert names <= set(boxes)
    for name in names:
        box = boxes[name]
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1
        others = [b for text, b in boxes.items() if text != name]
        assert not any(box.overlaps(other) for other in others), name


def test_a_page_keeps_its_font_while_it_covers_the_text():
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    from crmkit.present.fonts import embed_fonts

    def glyphs(page: str) -> set[str]:
        (data,) = re.findall(r"base64,([^)]*)\)", page)
        return {chr(c) for c in TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()}

    page = embed_fonts("<html><head></head><body><p>华东事业部</p></body></html>")
    assert glyphs(page) >= set("华东事业部")
    fewer = page.replace("事业部", "")  # text removed: the font still covers it, kept as is
    assert embed_fonts(fewer) == fewer
    more = page.replace("事业部", "事业部 北区")  # new characters: a new cut, one rule
    updated = embed_fonts(more)
    assert updated.count("@font-face") == 1
    assert glyphs(updated) >= set("华东事业部北区")
    assert embed_fonts(updated.replace("华东事业部 北区", "abc")).count("@font-face") == 0
