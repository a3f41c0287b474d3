"""The sample's reports as their readers get them: every unit, every topic, through
`crmkit run` with the repository's parameters (east in Chinese, the others in English)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from language_check import chinese_words, english_words, visible_text

from crmkit.present.format import pct
from crmkit.present.language import glossary, language
from crmkit.run.portfolio import format_figure, unit_flags
from crmkit.topics.registry import TOPICS, parameter_defaults

pytestmark = pytest.mark.slow
UNITS = {"east": "zh", "north": "en", "south": "en", "west": "en"}


@pytest.fixture(scope="module")
def sample(sample_fleet) -> Path:
    """The sample units' reports (the session's fleet run; its broken unit is not looked at
    here)."""
    return sample_fleet["period_dir"]


def records(sample: Path, unit: str) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in (sample / unit).glob("*.json")}


def report(sample: Path, unit: str, topic: str) -> str:
    return (sample / unit / f"{topic}.html").read_text("utf-8")


@pytest.fixture(scope="module")
def data_values() -> dict[str, set[str]]:
    """Every text value of each unit's sample data, and its parameters' words: what a
    report may show in the data's own language."""
    found: dict[str, set[str]] = {unit: set() for unit in UNITS}
    for path in (ROOT / "sample_data").glob("*.csv"):
        table = pd.read_csv(path, dtype=str)
        # the data's own names: its files and columns (a Sources table, a column's profile)
        names = {path.name, path.stem, "csv", *table.columns}
        names |= {part for column in table.columns for part in column.split("_")}
        for unit in found:
            found[unit] |= names
        if "business_unit" not in table:
            continue
        for unit, rows in table.groupby("business_unit"):
            for column in rows.columns:
                values = rows[column].dropna().astype(str)
                found.setdefault(unit, set()).update(values.unique())
    for unit in UNITS:
        found[unit].update(parameter_defaults()["funnel_stages"])  # a unit's stage names
        text = (ROOT / "parameters" / f"{unit}.yaml").read_text("utf-8")
        found[unit].update(re.findall(r"[\w\u3400-\u9fff]+", text))
    return {unit: {w for v in values for w in re.split(r"[\s,.;:()]+", v) if w} | values
            for unit, values in found.items()}  # fmt: skip


def test_the_samples_known_stories_are_the_top_flags_of_their_units(sample):
    south = unit_flags("south", records(sample, "south"), "en")
    north = unit_flags("north", records(sample, "north"), "en")
    assert south and south[0]["bad"] and "satisfaction.html#" in south[0]["href"]
    assert "NPS" in south[0]["message"]
    # north's funnel collapse: the step that fell most, and the win rate, lead its flags
    assert north and all(f["bad"] and "funnel.html#" in f["href"] for f in north[:2])
    assert any("win rate" in f["message"].lower() for f in north[:2])
    page = (sample / "index.html").read_text("utf-8")
    for flags in (south, north):
        assert html.escape(flags[0]["message"]) in page


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_the_portfolios_figures_are_the_reports_figures(sample, unit):
    by_topic = records(sample, unit)
    for name, topic in TOPICS.items():
        record = by_topic.get(name)
        if record is None:
            continue
        assert record["status"] == "ok", record["reason"]
        text = " ".join(visible_text(report(sample, unit, name)))
        for figure in topic.key_figures:
            value = record["results"].get(figure.key)
            with language(UNITS[unit]):
                shown = format_figure(value, figure.unit, currency=record["currency"])
                if figure.unit == "bands":  # the report says each band's share in a sentence
                    parts = [pct(value[band]) for band in ("red", "amber", "green")]
                    assert all(part in text for part in parts), (unit, name, parts)
                    continue
            assert shown.lstrip("+") in text, (unit, name, figure.key, shown)


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_report_is_in_its_units_language(sample, unit, data_values):
    code = UNITS[unit]
    for name in TOPICS:
        page = report(sample, unit, name)
        assert f'<html lang="{"zh-CN" if code == "zh" else "en"}"' in page
        text = visible_text(page)
        if code == "zh":
            assert english_words(text, data_values[unit]) == [], name
        else:
            assert chinese_words(text, data_values[unit]) == [], name


def test_every_table_header_is_a_glossary_name(sample, data_values):
    """A header is a glossary name, possibly qualified by the data's own values ("step
    conversion lead → intent"), or a column of the data's own shown by its name."""
    names = sorted((t.names["en"] for t in glossary().values()), key=len, reverse=True)
    columns = {c for p in (ROOT / "sample_data").glob("*.csv") for c in pd.read_csv(p, nrows=0)}

    def known(header: str, unit: str) -> bool:
        if any(c.endswith(header.replace(" ", "_")) for c in columns):
            return True
        rest, named = header.casefold(), False
        for name in names:
            if name.casefold() in rest:
                rest, named = rest.replace(name.casefold(), " "), True
        leftover = [w for w in re.split(r"[\s→/()\-–,:]+", rest) if w]
        values = {v.casefold() for v in data_values[unit]}
        return named and all(w in values or w.isdigit() for w in leftover)

    for unit in ("north", "south", "west"):
        for name in TOPICS:
            page = report(sample, unit, name)
            headers = re.findall(r'<th class="col_heading[^"]*"[^>]*>(.*?)</th>', page, re.S)
            for header in headers:
                header = html.unescape(re.sub(r"<[^>]+>", "", header)).strip()
                assert header in data_values[unit] or known(header, unit), (unit, name, header)


def test_reports_and_portfolio_are_light_and_offline(sample):
    portfolio = (sample / "index.html").read_text("utf-8")
    assert len(portfolio.encode()) < 50_000
    for unit in UNITS:
        for name in TOPICS:
            page = report(sample, unit, name)
            without_images = re.sub(r'src="data:image/[^"]+"', 'src=""', page)
            assert len(without_images.encode()) < 150_000, (unit, name)
            assert not re.search(r'(src|href)="(https?:)?//', page), (unit, name)


def test_each_report_opens_with_its_flags_and_keeps_analyst_notes_for_last(sample):
    for unit, code in UNITS.items():
        for name in TOPICS:
            page = report(sample, unit, name)
            body = page[page.index("</header>") :]
            first_heading = re.search(r"<h2[^>]*>(.*?)<", body, re.S).group(1)
            assert first_heading == (
                "本期变化与建议" if code == "zh" else "What changed and what to do"
            )
            assert page.count('<details class="crmkit-analyst"') == 1, (unit, name)
            manager = page[: page.index('<details class="crmkit-analyst"')]
            manager = re.sub(r'src="data:[^"]+"', "", manager)
            for analyst_word in ("dim_", "psy_", "silhouette", "p adjusted", "Holm", "R²"):
                assert analyst_word not in manager, (unit, name, analyst_word)
