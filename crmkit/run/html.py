"""HTML pages: the stakeholder report of an executed notebook, a failed run's notice, and the
page frame the index pages share.

The report is nbconvert's JupyterLab export through the template in ``templates/crmkit``,
with a small stylesheet of its own (``report.css``) instead of JupyterLab's, no scripts, and
the words of its frame in the unit's language; cells tagged ``analyst`` close the report in
a collapsed "Analyst notes" appendix. The other pages are Jinja2 templates in
``templates/pages`` rendered with autoescaping on. Every page embeds the Chinese glyphs it
uses (:func:`crmkit.present.fonts.embed_fonts`) and loads nothing from the network.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.present.fonts import FONT_STACK, embed_fonts
from crmkit.present.format import day
from crmkit.present.language import (
    HTML_LANG,
    UnknownWords,
    check_language,
    current,
    language,
    words,
)
from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.topics.registry import TOPICS

if TYPE_CHECKING:
    import jinja2
    import nbformat
    from markupsafe import Markup

    from crmkit.run.plan import Job

TEMPLATES = Path(__file__).parent / "templates"
"""nbconvert's template folder (``crmkit``) and the pages' (``pages``)."""
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove_cell"}
ANALYST_TAG = "analyst"
"""Cells for analysts (methods, parameters, test statistics, data-quality detail, sources):
moved, in order, into the report's collapsed "Analyst notes" appendix."""
ANALYST_ANCHOR = "analyst-notes"


def report_language(job: Job) -> str:
    """The language of the unit's reports (its ``language`` parameter; English if unset)."""
    return check_language(job.params.get("language") or "en")


def report_title(notebook: str) -> str:
    """A topic's title in the active language (``report.title_<topic>``); for a notebook the
    catalogue does not know, the registry's title, else the notebook's name."""
    try:
        return words(f"report.title_{notebook}")
    except UnknownWords:
        topic = TOPICS.get(notebook)
        return topic.title if topic else notebook


def report_metadata(job: Job) -> dict[str, str]:
    """What the report's header and footer show, in the unit's language: title, unit,
    period, the words of the frame, crmkit's version."""
    from crmkit import __version__

    period = job.period
    code = report_language(job)
    now = datetime.now()
    with language(code):
        shown = words(
            "report.period_range", label=period.label, start=day(period.start), end=day(period.end)
        )
        previous = words(
            "report.date_range", start=day(period.previous_start), end=day(period.previous_end)
        )
        return {
            "language": code,
            "html_lang": HTML_LANG[code],
            "title": report_title(job.notebook),
            "unit": job.params["business_unit"],
            "unit_name": job.params.get("display_name") or job.params["business_unit"],
            "period": shown,
            "previous": previous,
            "period_line": words("common.report_period", period=shown),
            "compared_line": words("common.compared_with", previous=previous),
            "all_units": words("common.all_units"),
            "contents": words("report.contents"),
            "chart_alt": words("report.chart"),
            "analyst_notes": words("common.analyst_notes"),
            "analyst_notes_intro": words("common.analyst_notes_intro"),
            "version": __version__,
            "footer": words(
                "common.generated", version=__version__, when=f"{day(now)} {now:%H:%M}"
            ),
        }


# ----------------------------------------------------------------------------- pages


@functools.cache
def _pages() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "pages"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["words"] = words  # in the language active when a page is rendered
    return environment


def render_page(template: str, *, html_lang: str | None = None, **context: Any) -> str:
    """A page from ``templates/pages/<template>``, values escaped, fonts embedded;
    ``<html lang>`` is ``html_lang`` (``"zh-CN"``, ``"en"``), by default the active
    language's."""
    page = (
        _pages()
        .get_template(template)
        .render(font_stack=FONT_STACK, html_lang=html_lang or HTML_LANG[current()], **context)
    )
    return embed_fonts(page)


def render_failure(job: Job, reason: str) -> str:
    """The page a failed run leaves in place of its report, in the unit's language: what
    failed, why (the reason as produced), and where the executed notebook with the error is."""
    from markupsafe import Markup, escape

    meta = report_metadata(job)
    link = Markup('<a href="{0}.ipynb">{0}.ipynb</a>').format(job.notebook)
    with language(meta["language"]):
        text = {
            "title": words("report.failed_title", unit=meta["unit_name"], title=meta["title"]),
            "failed": words("report.failed"),
            # the sentence escaped, then the link put in its place
            "notebook": escape(words("report.failed_notebook", notebook="{notebook}")).format(
                notebook=link
            ),
        }
    return render_page(
        "failure.html.j2", html_lang=meta["html_lang"], meta=meta, text=text, reason=reason
    )


# ----------------------------------------------------------------------------- reports


def stakeholder_view(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as a stakeholder sees it: no parameter cells, no warnings,
    no error output, no published-results payload; the cells tagged ``analyst`` moved, in
    order, to the end, the first and last of them marked (``metadata.crmkit.appendix``:
    ``"first"``, ``"last"`` or ``"only"``) for the template to open and close the appendix."""
    view = copy.deepcopy(executed)
    manager, analyst = [], []
    for cell in view.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    continue
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    continue
                if RESULTS_MIMETYPE in output.get("data", {}):
                    continue
                outputs.append(output)
            cell.outputs = outputs
            if not outputs:
                continue
        (analyst if ANALYST_TAG in tags else manager).append(cell)
    if analyst:
        analyst[0].metadata.setdefault("crmkit", {})["appendix"] = "first"
        analyst[-1].metadata.setdefault("crmkit", {})["appendix"] = (
            "only" if len(analyst) == 1 else "last"
        )
    view.cells = manager + analyst
    return view


@functools.cache
def _exporter():
    # Building the exporter compiles its templates: once per worker process, not per report.
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    return HTMLExporter(
        # The lab template's pygments CSS is for code cells: a report shows no code.
        config=Config({"CSSHTMLHeaderPreprocessor": {"enabled": False}}),
        template_name="crmkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_html(executed: nbformat.NotebookNode) -> str:
    """The stakeholder report: code hidden, charts embedded, nothing loaded from the network,
    a header with unit and period and a contents list of the manager's sections, in the
    unit's language (``metadata.crmkit``, :func:`report_metadata`), analyst cells in a
    collapsed appendix at the end."""
    meta = executed.metadata.get("crmkit", {})
    with language(meta.get("language") or "en"):
        body, _ = _exporter().from_notebook_node(
            stakeholder_view(executed), resources={"font_stack": FONT_STACK}
        )
        return embed_fonts(add_contents(slim_tables(body), title=meta.get("contents")))


_CELL_ID = re.compile(r' id="(T_\w+?_(?:row|level)\d+_(?:row|col)\d+)"')
_TABLE = re.compile(r"<table\b.*?</table>", re.S)


def slim_tables(page: str) -> str:
    """The page with its pandas Styler tables a third lighter: the id of every cell that no
    style rule addresses removed (Styler gives each cell one), and the tables' indentation.

    A table's look is kept: its own ``<style>`` addresses columns by class and styled cells
    by id, and those ids stay."""
    referenced = set(re.findall(r"#(T_[\w-]+)", page))
    page = _CELL_ID.sub(lambda m: m.group(0) if m.group(1) in referenced else "", page)
    return _TABLE.sub(lambda m: re.sub(r"\n[ \t]+", "\n", m.group(0)), page)


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)
_APPENDIX = re.compile(
    rf'<details class="crmkit-analyst" id="{ANALYST_ANCHOR}">\s*<summary>(.*?)</summary>', re.S
)


def add_contents(body: str, *, title: str | None = None) -> str:
    """Fill the template's contents placeholder with links to the report's sections (its
    ``<h2>`` headings before the analyst notes), then one link to the analyst notes."""
    from markupsafe import Markup

    appendix = _APPENDIX.search(body)
    manager = body[: appendix.start()] if appendix else body
    # The anchors and heading texts come out of nbconvert already escaped: keep them as is.
    sections = [(Markup(anchor), _text(inner)) for anchor, inner in _HEADING.findall(manager)]
    if appendix:
        sections.append((Markup(ANALYST_ANCHOR), _text(appendix.group(1))))
    nav = ""
    if sections:
        nav = (
            _pages()
            .get_template("contents.html.j2")
            .render(title=title or words("report.contents"), sections=sections)
        )
    return body.replace("<!--crmkit-toc-->", nav.strip(), 1)


def _text(inner: str) -> Markup:
    """A heading's text, already escaped, without its tags and nbconvert's ¶ anchor."""
    from markupsafe import Markup

    return Markup(re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip())
