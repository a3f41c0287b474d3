"""Each report's flags block ranks the unit's flags from all its reports."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from fontTools.ttLib import TTFont
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from test_portfolio import flag, record, write_records

from crmkit.present.fonts import embed_fonts, wide_characters
from crmkit.present.language import language
from crmkit.run.shared_flags import share_flags_of, share_unit_flags
from crmkit.topics.flags import flags_markdown


def page(code: str) -> str:
    """A report page as crmkit writes it, with the notebook's own flags block (none) and the
    glyphs of its own words embedded."""
    with language(code):
        block = markdown2html_mistune(flags_markdown([]))
    body = f"<header>h</header>{block}<h2 id='x'>Next</h2><p>kept</p>"
    return embed_fonts(f"<html><head></head><body>{body}</body></html>")


def embedded_glyphs(html: str) -> set[str]:
    data = base64.b64decode(re.search(r"base64,([^)]*)\)", html).group(1))
    return {chr(c) for c in TTFont(io.BytesIO(data)).getBestCmap()}


def test_each_report_shows_its_units_flags_from_all_reports(tmp_path: Path):
    nps = flag("satisfaction", "nps_change", bad=True, kind="change", strength=9.0)
    stuck = flag("funnel", "stuck_open", bad=True, kind="alert", strength=0.5)
    other_unit = flag("funnel", "win_rate_change", bad=True, kind="change", strength=20.0)
    period_dir = write_records(
        tmp_path,
        record("satisfaction", "east", {}, language="zh", flags=[nps]),
        record("funnel", "east", {}, language="zh", flags=[stuck]),
        record("funnel", "west", {}, flags=[other_unit]),
        record("clv", "west", {}, status="failed", reason="x"),
    )
    for unit, notebook, code in [
        ("east", "satisfaction", "zh"),
        ("east", "funnel", "zh"),
        ("west", "funnel", "en"),
        ("west", "clv", "en"),
    ]:
        (period_dir / unit / f"{notebook}.html").write_text(page(code), encoding="utf-8")
    assert share_unit_flags(period_dir) == 3  # west's failed clv page is left alone
    funnel = (period_dir / "east" / "funnel.html").read_text(encoding="utf-8")
    # ranked as on the portfolio: the significant change first, then the alert; each in the
    # report's language, linking to the report and section that explains it
    assert funnel.index("nps_change 提示") < funnel.index("stuck_open 提示")
    assert (
        '<a href="satisfaction.html#%E5%87%80%E6%8E%A8%E8%8D%90%E5%80%BC">客户满意度 · 查看详情'
        in funnel
    )
    assert '<a href="funnel.html#%E5%87%80%E6%8E%A8%E8%8D%90%E5%80%BC">查看详情</a>' in funnel
    assert "▼ <strong>nps_change 提示</strong>" in funnel and "● <strong>stuck_open" in funnel
    assert "没有显著变化" not in funnel  # the "nothing changed" sentence is replaced
    assert "win_rate_change" not in funnel  # never another unit's flags
    assert "<p>kept</p>" in funnel  # the rest of the page as it was
    # the other report's words bring glyphs the page did not have: all are embedded, once
    assert "提示" not in page("zh")
    assert set(wide_characters(funnel.split("</style>")[-1])) <= embedded_glyphs(funnel)
    assert funnel.count("@font-face") == 1
    # idempotent: the list is rebuilt from the records, not appended to
    assert share_unit_flags(period_dir) == 3
    assert (period_dir / "east" / "funnel.html").read_text(encoding="utf-8") == funnel
    west = (period_dir / "west" / "funnel.html").read_text(encoding="utf-8")
    assert "Win_rate_change action" in west and "nps_change" not in west
    assert (period_dir / "west" / "clv.html").read_text(encoding="utf-8") == page("en")


def test_one_units_flags_are_shared_in_its_own_folder_only(tmp_path: Path):
    nps = flag("satisfaction", "nps_change", bad=True, kind="change", strength=9.0)
    period_dir = write_records(
        tmp_path,
        record("satisfaction", "east", {}, language="zh", flags=[nps]),
        record("funnel", "west", {}, flags=[nps]),
    )
    (period_dir / "east" / "satisfaction.html").write_text(page("zh"), encoding="utf-8")
    (period_dir / "west" / "funnel.html").write_text(page("en"), encoding="utf-8")
    assert share_flags_of(str(period_dir / "east")) == 1
    assert "nps_change 提示" in (period_dir / "east" / "satisfaction.html").read_text("utf-8")
    assert (period_dir / "west" / "funnel.html").read_text(encoding="utf-8") == page("en")
