"""Each report's "what changed and what to do" block, ranked across all the unit's reports.

A notebook can only see its own topic, so a report is written with its own flags. Once a
unit's runs are done, :func:`share_unit_flags` replaces the list under each report's flags
heading with the unit's flags from all its reports, ranked as on the portfolio (the rule of
:mod:`crmkit.topics.flags`), each linking to the report and section that explains it. It
rewrites the whole list from the run records each time, so running it again, or after a
``--notebook`` subset, gives the same page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from crmkit.present.fonts import embed_fonts
from crmkit.present.language import language, words
from crmkit.run.execute import atomic_write
from crmkit.run.portfolio import read_records, unit_flags
from crmkit.topics.flags import anchor

_LIST = re.compile(r"(<ol>.*?</ol>|<p>.*?</p>)", re.S)


def flags_list(flags: list[dict], *, notebook: str) -> str:
    """The HTML list of a unit's ranked flags as a report ``notebook`` of it shows them:
    links to the unit's other reports name the report."""
    if not flags:
        return f"<p>{html.escape(words('common.no_flags'))}</p>"
    items = []
    for flag in flags:
        page, _, section = flag["href"].partition("#")
        target = page.rsplit("/", 1)[-1]
        link = words("common.flag_link")
        if target != f"{notebook}.html":
            topic = target.removesuffix(".html")
            link = f"{words(f'portfolio.topic_{topic}')} · {link}"
        action = words("common.flag_action", action=flag["action"])
        anchor_tag = f'<a href="{html.escape(target)}#{section}">{html.escape(link)}</a>'
        items.append(
            f"<li>{flag['marker']} <strong>{html.escape(flag['message'])}</strong> "
            f"{html.escape(action)} {words('common.flag_see', link=anchor_tag)}</li>"
        )
    return "<ol>\n" + "\n".join(items) + "\n</ol>"


def share_flags_of(unit_dir: str) -> int:
    """:func:`share_unit_flags` for the one unit whose reports are in ``unit_dir``: a job of
    ``crmkit run`` once the unit's runs have all ended, so that a fleet's pages are rewritten
    (a Chinese page's font cut again, ~0.5 s) beside the other units' runs, not one after
    another at the end."""
    folder = Path(unit_dir)
    return share_unit_flags(folder.parent, unit=folder.name)


def share_unit_flags(period_dir: Path, unit: str | None = None) -> int:
    """Rewrite the flags block of every successful report under ``period_dir`` (of the one
    ``unit``, if given) with its unit's ranked flags from all reports; the number of reports
    rewritten."""
    rewritten = 0
    for name, by_notebook in read_records(period_dir, unit).items():
        for notebook, record in by_notebook.items():
            page_path = period_dir / name / f"{notebook}.html"
            if record.get("status") != "ok" or not page_path.exists():
                continue
            code = record.get("language") or "en"
            with language(code):
                heading = f'<h2 id="{anchor(words("common.flags_title"))}"'
                flags = unit_flags(name, by_notebook, code)
                block = flags_list(flags, notebook=notebook)
            page = page_path.read_text(encoding="utf-8")
            start = page.find(heading)
            if start < 0:
                continue
            found = _LIST.search(page, page.index("</h2>", start))
            if not found:
                continue
            page = page[: found.start()] + block + page[found.end() :]
            atomic_write(page_path, embed_fonts(page))  # other reports' words, other glyphs
            rewritten += 1
    return rewritten
