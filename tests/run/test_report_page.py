"""The stakeholder report's page: language, analyst notes appendix, page weight, offline.

Executed notebooks are built here with their outputs (as papermill leaves them) and exported
through :func:`crmkit.run.html.render_html`, the path ``crmkit run`` takes after execution.
"""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from language_check import chinese_words, english_words, visible_text
from markupsafe import escape

from crmkit.core.periods import parse_period
from crmkit.present.fonts import wide_characters
from crmkit.present.language import language, words
from crmkit.present.notebook import table
from crmkit.run.html import (
    render_failure,
    render_html,
    render_page,
    report_metadata,
    report_title,
    slim_tables,
    stakeholder_view,
)
from crmkit.run.plan import Job
from crmkit.topics.registry import TOPICS

v4 = nbformat.v4
UNITS = {
    "zh": {"business_unit": "east", "display_name": "华东事业部", "language": "zh"},
    "en": {"business_unit": "north", "display_name": "North", "language": "en"},
}


def _job(code: str, notebook: str = "funnel") -> Job:
    return Job(notebook, f"{notebook}.ipynb", UNITS[code], parse_period("2026-Q3"), "out", ".")


def _markdown_output(text: str, **metadata) -> nbformat.NotebookNode:
    output = v4.new_output("display_data", data={"text/markdown": text})
    return v4.new_code_cell("display(...)", outputs=[output], metadata=metadata)


def _executed(cells: list, code: str = "en", notebook: str = "funnel") -> nbformat.NotebookNode:
    executed = v4.new_notebook(cells=[v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
    executed.cells += cells
    executed.metadata["crmkit"] = report_metadata(_job(code, notebook))
    return executed


def _analyst(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell.metadata["tags"] = ["analyst"]
    return cell


def _between(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start)) + len(end)]


# ----------------------------------------------------------------------------- language


@pytest.mark.parametrize(("code", "lang"), [("zh", "zh-CN"), ("en", "en")])
def test_report_and_failure_page_declare_the_units_language(code, lang):
    report = render_html(_executed([v4.new_markdown_cell("## Words")], code))
    assert re.match(rf'<!DOCTYPE html>\s*<html lang="{lang}">', report)
    failure = render_failure(_job(code), "DataError: no rows")
    assert f'<html lang="{lang}">' in failure
    assert report.count("<html") == failure.count("<html") == 1


def test_page_frame_takes_its_language_from_the_caller_or_the_active_language():
    periods = [{"name": "2026-Q3", "line": "2 个事业部，10 份报告", "failed_text": "1 份失败"}]
    with language("zh"):
        page = render_page("periods.html.j2", title="客户报告", periods=periods)
    assert '<html lang="zh-CN">' in page
    assert '2 个事业部，10 份报告，<span class="failed">1 份失败</span>' in page  # zh comma
    page = render_page("periods.html.j2", html_lang="zh-CN", title="Reports", periods=[])
    assert '<html lang="zh-CN">' in page
    assert '<html lang="en">' in render_page("periods.html.j2", title="Reports", periods=[])


def test_zh_header_contents_appendix_charts_and_footer_hold_no_english():
    chart = {"image/png": _chart_png(0), "text/plain": "<Figure size 900x450 with 1 Axes>"}
    cells = [
        v4.new_markdown_cell("## 主要发现\n\n- 本期赢单率下降。"),
        v4.new_code_cell("c", outputs=[v4.new_output("display_data", data=chart)]),
        _analyst(v4.new_markdown_cell("## 方法\n\n采用 Wilson 区间。")),
    ]
    page = render_html(_executed(cells, "zh"))
    frame = [
        re.search(r"<img [^>]*>", page).group().replace(chart["image/png"], ""),  # alt text
        _between(page, "<title>", "</title>"),
        _between(page, '<header class="crmkit-header">', "</header>"),
        _between(page, '<nav class="crmkit-toc">', "</nav>"),
        _between(page, "<summary>", '<p class="crmkit-analyst-intro">'),
        _between(page, '<p class="crmkit-analyst-intro">', "</p>"),
        _between(page, '<footer class="crmkit-footer">', "</footer>"),
    ]
    texts = visible_text("".join(frame))
    assert english_words(texts) == []
    assert "华东事业部 · 销售漏斗" in texts
    assert "报告期 2026-Q3（2026年7月1日 至 2026年9月30日）" in " ".join(texts)
    assert "目录" in texts and "分析师附注" in texts and "全部事业部" in texts and "图表" in texts


def test_en_header_holds_no_chinese_and_dates_in_english():
    page = render_html(_executed([v4.new_markdown_cell("## Findings")], "en"))
    header = _between(page, '<header class="crmkit-header">', "</footer>")
    assert chinese_words(visible_text(header)) == []
    assert "Period 2026-Q3 (Jul 1, 2026 – Sep 30, 2026)" in header
    assert "compared with Apr 1, 2026 – Jun 30, 2026" in header
    assert "<title>North · Sales funnel · 2026-Q3 (Jul 1, 2026 – Sep 30, 2026)</title>" in page


def test_every_topic_has_a_title_in_each_language_the_english_one_the_registrys():
    for name, topic in TOPICS.items():
        with language("en"):
            assert report_title(name) == topic.title
        with language("zh"):
            title = report_title(name)
        assert title != topic.title and english_words([title]) == [], name
    with language("zh"):
        assert words("report.title_churn") == "客户流失与留存"
        assert words("report.title_health") == "客户关系健康度"
        assert report_title("custom_notebook") == "custom_notebook"  # unknown: its own name


def test_zh_failure_page_is_in_chinese_and_keeps_the_reason_as_produced():
    reason = "DataError: Column 'amount' is missing from transactions"
    page = render_failure(_job("zh"), reason)
    assert "<title>华东事业部 · 销售漏斗（未能生成）</title>" in page
    assert f'<pre class="reason">{escape(reason)}</pre>' in page
    shown = visible_text(page.replace(_between(page, '<pre class="reason">', "</pre>"), ""))
    assert english_words(shown, allowed={"funnel", "ipynb"}) == []
    assert "本报告未能生成。" in shown
    assert '<a href="funnel.ipynb">funnel.ipynb</a>' in page


# ----------------------------------------------------------------------------- analyst notes


def _mixed_notebook() -> list:
    """Manager and analyst cells interleaved, as a topic notebook has them."""
    return [
        _analyst(v4.new_markdown_cell("# Sales funnel\n\n**Question:** A1")),
        v4.new_markdown_cell("## Key findings\n\nM1"),
        _markdown_output("## The funnel\n\nM2"),
        _analyst(_markdown_output("## Which step got worse?\n\nA2")),
        v4.new_markdown_cell("## Breakdowns\n\nM3"),
        _analyst(v4.new_markdown_cell("## Data quality\n\nA3")),
        _analyst(_markdown_output("A4: nothing repaired")),
        # an analyst cell that shows nothing (a warning only) is dropped, not left open
        _analyst(v4.new_code_cell("x", outputs=[v4.new_output("stream", name="stderr", text="W")])),
    ]


def test_stakeholder_view_moves_analyst_cells_last_in_order_and_marks_the_ends():
    view = stakeholder_view(_executed(_mixed_notebook()))
    texts = [
        c.source if c.cell_type == "markdown" else c.outputs[0].data["text/markdown"]
        for c in view.cells
    ]
    assert [re.search(r"[MA]\d", t).group() for t in texts] == [
        "M1",
        "M2",
        "M3",
        "A1",
        "A2",
        "A3",
        "A4",
    ]
    marks = [c.metadata.get("crmkit", {}).get("appendix") for c in view.cells]
    assert marks == [None, None, None, "first", None, None, "last"]
    single = stakeholder_view(_executed([_analyst(v4.new_markdown_cell("A1"))]))
    assert single.cells[0].metadata["crmkit"]["appendix"] == "only"


def test_analyst_cells_sit_in_one_collapsed_details_at_the_end_in_order():
    page = render_html(_executed(_mixed_notebook()))
    assert page.count("<details") == 1 and page.count("</details>") == 1
    opened = page.index('<details class="crmkit-analyst" id="analyst-notes"><summary>Analyst notes')
    closed = page.index("</details>")
    assert "open" not in page[opened : page.index(">", opened)]  # collapsed
    for mark in ("M1", "M2", "M3"):
        assert page.index(mark) < opened
    positions = [page.index(mark) for mark in ("A1", "A2", "A3", "A4")]
    assert opened < positions[0] < positions[1] < positions[2] < positions[3] < closed
    assert closed < page.index('<footer class="crmkit-footer">')
    assert words("common.analyst_notes_intro") in page[opened:closed]


def test_contents_list_the_managers_sections_then_the_analyst_notes():
    page = render_html(_executed(_mixed_notebook()))
    nav = _between(page, '<nav class="crmkit-toc">', "</nav>")
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav) == [
        ("Key-findings", "Key findings"),
        ("The-funnel", "The funnel"),
        ("Breakdowns", "Breakdowns"),
        ("analyst-notes", "Analyst notes"),
    ]
    plain = render_html(_executed([v4.new_markdown_cell("## Key findings")]))
    assert "<details" not in plain and "#analyst-notes" not in plain


# ----------------------------------------------------------------------------- weight, offline


def _chart_png(seed: int) -> str:
    rng = np.random.default_rng(seed)
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    axes.plot(rng.normal(size=(60, 3)).cumsum(axis=0))
    axes.set_title("this period and the previous one")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


CITIES = [
    *("上海", "杭州", "南京", "苏州", "宁波", "合肥"),
    *("无锡", "常州", "温州", "绍兴", "嘉兴", "扬州"),
]
GLYPHS = "".join(chr(0x4E00 + i) for i in range(450))
"""450 distinct Chinese characters: what a zh report's catalogue texts and data values use."""


def _sample_like_report() -> nbformat.NotebookNode:
    """A zh report of a topic's size: findings, 10 sections of text (450 distinct Chinese
    characters in all), 5 tables of 12 rows in the reading format (pandas Styler), 6 charts,
    an analyst appendix with 2 more tables."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "city": CITIES,
            "customers": rng.integers(100, 5000, 12),
            "share_of_customers": rng.random(12),
            "period_revenue": rng.random(12) * 1e6,
            "lifetime_revenue": rng.random(12) * 1e7,
            "share_of_revenue": rng.random(12),
            "p_value": rng.random(12),
        }
    )
    with language("zh"):
        styled = table(
            frame,
            integers=["customers"],
            percent=["share_of_customers", "share_of_revenue"],
            money_columns=["period_revenue", "lifetime_revenue"],
            p_values=["p_value"],
            currency="CNY",
            caption="各城市客户与收入",
        ).to_html()
    shown = {"text/html": styled}
    findings = "\n".join(
        f"- 第{i}条发现：本期收入较上期增长 12.3%（p < 0.001）。" for i in range(5)
    )
    cells = [v4.new_markdown_cell(f"## 主要发现\n\n{findings}")]
    for section in range(10):
        words_of_section = GLYPHS[section * 45 : (section + 1) * 45]
        cells.append(v4.new_markdown_cell(f"## 第{section}节\n\n{words_of_section * 3}"))
        if section < 5:
            cells.append(
                v4.new_code_cell("t", outputs=[v4.new_output("execute_result", data=shown)])
            )
        if section < 6:
            png = {"image/png": _chart_png(section), "text/plain": "<Figure>"}
            cells.append(v4.new_code_cell("c", outputs=[v4.new_output("display_data", data=png)]))
    for _ in range(2):
        output = v4.new_output("execute_result", data=shown)
        cells.append(_analyst(v4.new_code_cell("t", outputs=[output])))
    return _executed(cells, "zh")


def test_a_report_weighs_under_150_kb_besides_its_images():
    page = render_html(_sample_like_report())
    assert page.count("<img") == 6 and page.count("<table") == 7
    without_images = re.sub(r'(<img[^>]*?src=")data:image/[^"]*"', r'\1"', page)
    assert len(without_images.encode()) < 150 * 1024
    assert "--jp-" not in page  # JupyterLab's stylesheet (~240 KB) is not included
    font = re.search(r"url\(data:font/woff2;base64,([^)]*)\)", page).group(1)
    assert len(font) < 100 * 1024  # its 470 Chinese characters, ~200 bytes each
    assert all(c in wide_characters(page) for c in GLYPHS)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def test_pages_load_nothing_from_the_network():
    pages = [
        render_html(_sample_like_report()),
        render_failure(_job("zh"), "E"),
        render_page("periods.html.j2", title="Reports", periods=[]),
    ]
    for page in pages:
        links = _Links()
        links.feed(page)
        assert "script" not in links.tags and "link" not in links.tags
        assert [u for u in links.urls if re.match(r"\s*(https?:)?//", u)] == []
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", page)


def test_slim_tables_drops_only_the_cell_ids_no_style_addresses():
    frame = pd.DataFrame({"city": ["上海", "杭州"], "customers": [5, -1]})
    styler = frame.style.map(lambda v: "color: red" if v == -1 else "", subset=["customers"])
    html = styler.hide(axis="index").to_html()
    styled_cell = re.search(r'id="(T_\w+_row1_col1)"', html).group(1)
    slim = slim_tables(html)
    assert re.findall(r'id="(T_[^"]+)"', slim) == [
        re.search(r'<table id="(T_\w+)"', html).group(1),
        styled_cell,
    ]
    assert f"#{styled_cell}" in slim and "color: red" in slim
    assert re.sub(r"\s+", "", re.sub(r' id="[^"]+"', "", slim)) == re.sub(
        r"\s+", "", re.sub(r' id="[^"]+"', "", html)
    )  # nothing else changed but whitespace
    assert "\n  <" not in _between(slim, "<table", "</table>")


@pytest.mark.slow
def test_a_zh_run_writes_its_report_in_chinese_with_the_analyst_notes_last(tmp_path):
    from crmkit.run.execute import execute

    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell('business_unit = "x"', metadata={"tags": ["parameters"]}),
            v4.new_markdown_cell("## 方法\n\n方法说明", metadata={"tags": ["analyst"]}),
            v4.new_markdown_cell("## 主要发现\n\n发现说明"),
            v4.new_code_cell("import crmkit as ck\nck.nb.publish_results({'n': 1})"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, tmp_path / "clv.ipynb")
    params = {"business_unit": "east", "display_name": "华东事业部", "language": "zh"}
    job = Job(
        "clv",
        str(tmp_path / "clv.ipynb"),
        params,
        parse_period("2026-Q3"),
        str(tmp_path / "out"),
        str(tmp_path),
    )
    outcome = execute(job)
    assert outcome.status == "ok", outcome.reason
    page = (tmp_path / "out" / "clv.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "华东事业部 · 客户生命周期价值" in page
    # (Chinese markers: the embedded font's base64 could hold any Latin pair)
    order = [page.index(s) for s in ("发现说明", "<details", "方法说明", "</details>")]
    assert order == sorted(order)
