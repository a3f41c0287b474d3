"""HTML pages: the stakeholder report of an executed notebook, a failed run's notice, and the
page frame the index pages share.

The report is nbconvert's JupyterLab export through the template in ``templates/crmkit``
(offline: no scripts from a CDN). The other pages are Jinja2 templates in
``templates/pages`` rendered with autoescaping on. Every page embeds the Chinese glyphs it
uses (:func:`crmkit.present.fonts.embed_fonts`).
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.present.fonts import FONT_STACK, embed_fonts
from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.topics.registry import TOPICS

if TYPE_CHECKING:
    import jinja2
    import nbformat

    from crmkit.run.plan import Job

TEMPLATES = Path(__file__).parent / "templates"
"""nbconvert's template folder (``crmkit``) and the pages' (``pages``)."""
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove_cell"}


def report_metadata(job: Job) -> dict[str, str]:
    """What the report's header and footer show: title, unit, period, crmkit version."""
    from crmkit import __version__

    period = job.period
    topic = TOPICS.get(job.notebook)
    return {
        "title": topic.title if topic else job.notebook,
        "unit": job.params["business_unit"],
        "unit_name": job.params.get("display_name") or job.params["business_unit"],
        "period": f"{period.label} ({period.start:%Y-%m-%d} – {period.end:%Y-%m-%d})",
        "previous": f"{period.previous_start:%Y-%m-%d} – {period.previous_end:%Y-%m-%d}",
        "version": __version__,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


# ----------------------------------------------------------------------------- pages


@functools.cache
def _pages() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "pages"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context: Any) -> str:
    """A page from ``templates/pages/<template>``, values escaped, fonts embedded."""
    page = _pages().get_template(template).render(font_stack=FONT_STACK, **context)
    return embed_fonts(page)


def render_failure(job: Job, reason: str) -> str:
    """The page a failed run leaves in place of its report: what failed, why, and where the
    executed notebook with the error is."""
    return render_page(
        "failure.html.j2", meta=report_metadata(job), notebook=job.notebook, reason=reason
    )


# ----------------------------------------------------------------------------- reports


def stakeholder_view(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as a stakeholder sees it: no parameter cells, no warnings,
    no error output, no published-results payload."""
    view = copy.deepcopy(executed)
    cells = []
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
        cells.append(cell)
    view.cells = cells
    return view


@functools.cache
def _exporter():
    # Building the exporter compiles its templates: once per worker process, not per report.
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="crmkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_html(executed: nbformat.NotebookNode) -> str:
    """The stakeholder report: code hidden, charts embedded, nothing loaded from the network,
    a header with unit and period, and a contents list of the report's sections."""
    body, _ = _exporter().from_notebook_node(
        stakeholder_view(executed), resources={"font_stack": FONT_STACK}
    )
    return embed_fonts(add_contents(body))


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)


def add_contents(body: str) -> str:
    """Fill the template's contents placeholder with links to the report's sections."""
    from markupsafe import Markup

    # The anchors and heading texts come out of nbconvert already escaped: keep them as is.
    sections = [
        (Markup(anchor), Markup(re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()))
        for anchor, inner in _HEADING.findall(body)
    ]
    nav = _pages().get_template("contents.html.j2").render(sections=sections) if sections else ""
    return body.replace("<!--crmkit-toc-->", nav.strip(), 1)
