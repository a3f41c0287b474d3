"""The segmentation charts speak the report's language: titles, axes, legends, ticks and
annotations."""

import pandas as pd
import pytest
from language_check import chinese_words, english_words

from crmkit.metrics import segmentation as sg
from crmkit.present.language import language
from crmkit.present.plots import segmentation as plots
from crmkit.present.plots import theme_rc


@pytest.fixture(autouse=True)
def _theme():
    import matplotlib.pyplot as plt

    with plt.rc_context(theme_rc()):  # the font that has the Chinese glyphs
        yield


def chart_texts(ax) -> list[str]:
    """Every text a reader sees on the chart."""
    ax.figure.canvas.draw()
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    texts += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


@pytest.mark.parametrize("code", ["zh", "en"])
def test_lorenz_and_silhouettes_in_the_reports_language(code):
    curve = sg.lorenz_curve(pd.Series([100.0, 50, 20, 10, 10, 5, 2, 1, 1, 1]))
    with language(code):
        texts = chart_texts(plots.plot_lorenz(curve, top_share=0.75))
        texts += chart_texts(plots.plot_silhouettes({2: 0.31, 3: 0.42, 4: 0.38}, chosen=3))
    if code == "zh":
        assert english_words(texts) == []
        assert "前 20% → 累计收入的 75%" in texts
    else:
        assert chinese_words(texts) == []
        assert "top 20% → 75% of lifetime revenue" in texts
    assert "0.42" in texts or "0.40" in texts  # silhouette ticks by locale, two decimals


def test_transitions_show_named_stages_and_locale_counts():
    matrix = pd.DataFrame(
        [[1200, 3], [0, 45]], index=["流失预警客户", "尚未注册"], columns=["活跃客户", "已流失客户"]
    )
    with language("zh"):
        ax = plots.plot_transitions(matrix)
        texts = chart_texts(ax)
    assert english_words(texts) == []
    # the annotations are the counts, thousands separated, on their cells
    cells = {t.get_text(): t.get_position() for t in ax.texts}
    assert set(cells) == {"1,200", "3", "0", "45"}
    assert cells["1,200"] == (0.5, 0.5) and cells["45"] == (1.5, 1.5)


def test_bars_keep_the_callers_words_and_format_ticks():
    table = pd.DataFrame({"segment": ["重要价值客户", "沉睡客户"], "customers": [1500, 300]})
    with language("zh"):
        ax = plots.plot_bars(
            table, x="customers", y="segment", title="各 RFM 分群的客户数", xlabel="客户数"
        )
        texts = chart_texts(ax)
    assert english_words(texts) == []
    assert "1,000" in texts and [t.get_text() for t in ax.get_yticklabels()] == [
        "重要价值客户",
        "沉睡客户",
    ]
