"""The report's language: word catalogues (zh, en), the glossary, and the locale for numbers.

Words live in YAML catalogues under ``crmkit/present/words/``, one file per topic (plus
``common.yaml`` for the report frame and ``portfolio.yaml``), each entry holding every
language side by side so a missing translation is visible and tested:

.. code-block:: yaml

    terms:                      # the glossary: one name and one definition per figure
      win_rate:
        en: {name: win rate, definition: "won ÷ (won + lost) of the period's deals"}
        zh: {name: 赢单率, definition: "本期商机中 赢单 ÷（赢单 + 输单）"}
    text:                       # sentences, with {placeholders} for formatted numbers
      win_rate_fell:
        en: "Win rate fell from {before} to {after}."
        zh: "赢单率由 {before} 降至 {after}。"

Text keys are addressed as ``<file>.<key>`` (``words("funnel.win_rate_fell", ...)``); term
keys are global (``term("win_rate")``) and defined in exactly one file.

A notebook is one report in one language, so the language is set once per process
(:func:`set_language`, called by ``ck.open_unit``) rather than passed to each of the
hundreds of calls that format a number or a sentence; :func:`language` sets it for a block
(tests, the portfolio page).
"""

from __future__ import annotations

import contextlib
import functools
import string
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

LANGUAGES: dict[str, str] = {"en": "en_US", "zh": "zh_Hans_CN"}
"""Report languages and the CLDR locale each formats numbers and dates with."""

HTML_LANG = {"en": "en", "zh": "zh-CN"}

_active = "en"


class UnknownWords(KeyError):
    """A text or term key that no catalogue defines."""


@dataclass(frozen=True)
class Term:
    """One figure of the glossary: its name and definition in each language."""

    key: str
    names: dict[str, str]
    definitions: dict[str, str]
    catalogue: str


def check_language(code: str) -> str:
    """``code`` if it is a report language; otherwise a clear error naming the choices."""
    from crmkit.core.errors import ParameterError

    if code not in LANGUAGES:
        raise ParameterError(
            f"language must be one of {sorted(LANGUAGES)}, got {code!r}: "
            "set `language: zh` or `language: en` in the unit's parameters."
        )
    return code


def set_language(code: str) -> None:
    """Make ``code`` (``"zh"`` or ``"en"``) the language of what this process writes."""
    global _active
    _active = check_language(code)


def current() -> str:
    """The active report language."""
    return _active


def locale() -> str:
    """The CLDR locale of the active language (for Babel)."""
    return LANGUAGES[_active]


@contextlib.contextmanager
def language(code: str) -> Iterator[str]:
    """Write in ``code`` inside the block, then go back to the language before it."""
    before = _active
    set_language(code)
    try:
        yield code
    finally:
        set_language(before)


@functools.cache
def catalogues() -> dict[str, dict[str, Any]]:
    """Every catalogue file, by name (``common``, ``funnel`` ...), as read from YAML.

    With libyaml's safe loader where PyYAML has it: every kernel reads all catalogues, and the
    pure-Python loader took 0.25 s (up to 3 s on a busy machine) of each report's run."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = {}
    for entry in sorted(resources.files("crmkit.present").joinpath("words").iterdir()):
        if entry.name.endswith(".yaml"):
            name = entry.name.removesuffix(".yaml")
            found[name] = yaml.load(entry.read_text("utf-8"), Loader=loader)
    return found


@functools.cache
def _texts() -> dict[str, dict[str, str]]:
    return {
        f"{name}.{key}": entry
        for name, catalogue in catalogues().items()
        for key, entry in (catalogue.get("text") or {}).items()
    }


@functools.cache
def glossary() -> dict[str, Term]:
    """Every figure's :class:`Term`, by key, from all catalogues."""
    terms: dict[str, Term] = {}
    for name, catalogue in catalogues().items():
        for key, entry in (catalogue.get("terms") or {}).items():
            if key in terms:
                raise ValueError(
                    f"Term '{key}' is defined in both {terms[key].catalogue}.yaml and "
                    f"{name}.yaml: a figure has one definition."
                )
            terms[key] = Term(
                key=key,
                names={code: entry[code]["name"] for code in LANGUAGES},
                definitions={code: entry[code].get("definition", "") for code in LANGUAGES},
                catalogue=name,
            )
    return terms


def words(key: str, /, **values: Any) -> str:
    """The sentence ``key`` in the active language, its placeholders filled with ``values``
    (already formatted: see :mod:`crmkit.present.format`)."""
    try:
        entry = _texts()[key]
    except KeyError:
        raise UnknownWords(f"No catalogue defines the text '{key}'.") from None
    template = entry.get(_active) or entry["en"]
    return template.format(**values) if values else template


def all_languages(key: str, /, **values: Any) -> dict[str, str]:
    """The sentence ``key`` in every language (values formatted per language by callables)."""
    found = {}
    for code in LANGUAGES:
        with language(code):
            filled = {k: (v() if callable(v) else v) for k, v in values.items()}
            found[code] = words(key, **filled)
    return found


def term(key: str) -> str:
    """The glossary name of figure ``key`` in the active language."""
    try:
        return glossary()[key].names[_active]
    except KeyError:
        raise UnknownWords(f"The glossary has no figure '{key}'.") from None


def is_term(key: str) -> bool:
    """Whether ``key`` names a glossary figure."""
    return key in glossary()


def column_name(column: str) -> str:
    """A column for reading: its glossary name (``region`` → "地区"), else a contract
    column's name in the report's language (``customer_id``: as the contract spells it in
    English, "客户编号" in Chinese), else the data's own name (``plan``)."""
    if is_term(column):
        return term(column)
    try:
        return words(f"common.column_{column}")
    except UnknownWords:
        return column


def attribute_name(column: str) -> str:
    """A psychographic column (``psy_*``, named by the data, not the contract) for reading:
    without its prefix, underscores as spaces (``psy_brand_affinity`` → "brand affinity")."""
    return str(column).removeprefix("psy_").replace("_", " ")


def definition(key: str) -> str:
    """The glossary definition of figure ``key`` in the active language."""
    return glossary()[key].definitions[_active]


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a catalogue sentence expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
