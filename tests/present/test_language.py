"""Language catalogues, the glossary and locale formatting."""

from __future__ import annotations

import pytest

from crmkit.core.errors import ParameterError
from crmkit.present import format as fmt
from crmkit.present.language import (
    LANGUAGES,
    UnknownWords,
    catalogues,
    current,
    glossary,
    language,
    placeholders,
    set_language,
    term,
    words,
)


def every_text():
    for name, catalogue in catalogues().items():
        for key, entry in (catalogue.get("text") or {}).items():
            yield f"{name}.{key}", entry


def test_every_text_is_written_in_every_language_with_the_same_placeholders():
    problems = []
    for key, entry in every_text():
        # an empty text is allowed only where English has one too (a separator, say)
        blank = not str(entry.get("en") or "").strip()
        missing = [
            code
            for code in LANGUAGES
            if entry.get(code) is None or (not str(entry[code]).strip() and not blank)
        ]
        if missing:
            problems.append(f"{key}: no {missing}")
            continue
        names = {code: placeholders(str(entry[code])) for code in LANGUAGES}
        if len({frozenset(v) for v in names.values()}) > 1:
            problems.append(f"{key}: placeholders differ {names}")
    assert problems == []


def test_every_term_has_a_name_and_definition_in_every_language_and_one_name_per_figure():
    terms = glossary()
    assert {"period_revenue", "lifetime_revenue", "customers", "buying_customers"} <= set(terms)
    for code in LANGUAGES:
        names: dict[str, str] = {}
        for key, entry in terms.items():
            assert entry.names[code].strip(), (key, code)
            assert entry.definitions[code].strip(), (key, code)
            clash = names.setdefault(entry.names[code].casefold(), key)
            assert clash == key, f"{code}: '{entry.names[code]}' names both {clash} and {key}"


def test_chinese_words_hold_no_english_and_english_no_chinese():
    import re

    from language_check import english_words

    for key, entry in every_text():
        zh = re.sub(r"\{[^}]*\}", "", str(entry["zh"]))
        assert english_words([zh]) == [], key
        assert not re.search(r"[\u3400-\u9fff]", str(entry["en"])), key
    for key, entry in glossary().items():
        assert english_words([entry.names["zh"]]) == [], key


def test_words_and_terms_follow_the_active_language():
    with language("zh"):
        assert words("common.findings_title") == "主要发现"
        assert term("period_revenue") == "本期收入"
        assert current() == "zh"
    assert current() == "en"
    assert words("common.change_up", size="5%") == "up 5% on the previous period"
    with pytest.raises(UnknownWords, match="no-such"):
        words("common.no-such")
    with pytest.raises(UnknownWords, match="glossary has no figure 'nope'"):
        term("nope")


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ParameterError, match=r"one of \['en', 'zh'\], got 'fr'"):
        set_language("fr")
    assert current() == "en"


@pytest.mark.parametrize(
    ("call", "en", "zh"),
    [
        (lambda: fmt.pct(0.1234), "12.3%", "12.3%"),
        (lambda: fmt.pct(-0.00001), "0.0%", "0.0%"),
        (lambda: fmt.num(1234567.891, 2), "1,234,567.89", "1,234,567.89"),
        (lambda: fmt.money(1234.4, "CNY"), "CN¥1,234", "¥1,234"),
        (lambda: fmt.money(1234.4, "USD"), "$1,234", "US$1,234"),
        (lambda: fmt.money(1234.4), "1,234", "1,234"),
        (lambda: fmt.signed(-3.46, 1), "−3.5", "−3.5"),
        (lambda: fmt.signed(0.04, 1), "0.0", "0.0"),
        (lambda: fmt.signed_money(-3.4, "USD"), "−$3", "−US$3"),
        (lambda: fmt.signed_money(0.4, "CNY"), "CN¥0", "¥0"),  # nothing is unsigned
        (lambda: fmt.signed_money(1234.5, "CNY"), "+CN¥1,234", "+¥1,234"),
        (lambda: fmt.day("2026-09-30"), "Sep 30, 2026", "2026年9月30日"),
        (lambda: fmt.month("2026-09-14"), "Sep 2026", "2026年9月"),
        (lambda: fmt.p_text(0.0004), "p < 0.001", "p < 0.001"),
        (lambda: fmt.change(110, 100), "up 10.0% on the previous period", "较上期增长 10.0%"),
        (lambda: fmt.change(90, 100), "down 10.0% on the previous period", "较上期下降 10.0%"),
        (lambda: fmt.change(5, 0), "no comparable previous period", "上期无可比数据"),
        (lambda: fmt.pct(None), "–", "–"),
    ],
)
def test_numbers_follow_the_locale(call, en, zh):
    with language("en"):
        assert call() == en
    with language("zh"):
        assert call() == zh
