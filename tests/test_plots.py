import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crmkit import plots
from crmkit.fonts import font_face_css, wide_characters


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
    fig = plots.plot_monthly_volume(volume, period_start="2026-07-01", period_end="2026-09-30")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["customers", "transactions"]
    assert visible[1].lines[0].get_ydata().tolist() == [10, 20, 30]
    assert [t.get_text() for t in visible[0].get_xticklabels()] == ["2026-07"]


def test_font_subset_only_for_wide_text():
    assert wide_characters("abc 华东华东，") == "东华，"
    assert font_face_css("plain ASCII") == ""
    css = font_face_css("华东事业部")
    assert css.startswith("@font-face") and "data:font/woff;base64," in css
    assert len(css) < 60_000
