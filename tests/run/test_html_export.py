"""HTML export helpers: the stakeholder view, the contents list, the failure page."""

from __future__ import annotations

from pathlib import Path

import nbformat

from crmkit.core.periods import parse_period
from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.run.html import add_contents, render_failure, stakeholder_view
from crmkit.run.plan import Job


def test_contents_list_links_every_section():
    body = (
        '<!--crmkit-toc--><h2 id="Key-findings">Key findings<a class="anchor-link" '
        'href="#Key-findings">¶</a></h2><h2 id="Sources">Sources</h2>'
    )
    page = add_contents(body)
    assert '<li><a href="#Key-findings">Key findings</a></li>' in page
    assert '<li><a href="#Sources">Sources</a></li>' in page
    assert page.startswith('<nav class="crmkit-toc"><strong>Contents</strong><ol><li>')


def test_contents_keep_escaped_headings_as_they_are():
    page = add_contents('<!--crmkit-toc--><h2 id="R&amp;D">R&amp;D <em>spend</em></h2>')
    assert '<li><a href="#R&amp;D">R&amp;D spend</a></li>' in page
    assert add_contents("<!--crmkit-toc--><p>no sections</p>") == "<p>no sections</p>"


def test_stakeholder_view_drops_parameters_warnings_errors_and_results():
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
            v4.new_code_cell(
                "chart()",
                outputs=[
                    v4.new_output("stream", name="stderr", text="UserWarning: careful"),
                    v4.new_output("display_data", data={"text/plain": "the chart"}),
                    v4.new_output("display_data", data={RESULTS_MIMETYPE: {"n": 1}}),
                ],
            ),
            v4.new_code_cell("boom()", outputs=[v4.new_output("error", ename="E", evalue="")]),
            v4.new_markdown_cell("## Words"),
        ]
    )
    view = stakeholder_view(notebook)
    assert [c.source for c in view.cells] == ["chart()", "## Words"]
    assert view.cells[0].outputs == [notebook.cells[1].outputs[1]]
    assert len(notebook.cells) == 4  # the executed notebook itself is left alone


def test_failure_page_escapes_the_reason_and_links_the_notebook(tmp_path: Path):
    job = Job(
        "funnel",
        str(tmp_path / "funnel.ipynb"),
        {"business_unit": "east", "display_name": "华东 <R&D>"},
        parse_period("2026-Q3"),
        str(tmp_path / "out"),
        str(tmp_path),
    )
    page = render_failure(job, "DataError: <script>alert('x')</script>")
    assert "<title>华东 &lt;R&amp;D&gt; · Sales funnel — failed</title>" in page
    assert "This report could not be produced." in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page and "<script>" not in page
    assert '<a href="funnel.ipynb">funnel.ipynb</a>' in page
    assert "Period 2026-Q3 (Jul 1, 2026 – Sep 30, 2026)" in page
    assert "@font-face" in page  # the Chinese glyphs travel with the page
    assert 'font-family: "crmkit CJK"' in page  # the font stack is CSS, not escaped text
