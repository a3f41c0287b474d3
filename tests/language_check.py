"""Which words of a rendered page are in the wrong language.

A zh report's visible text holds no English word outside data values, units and proper
names; an en report holds no Chinese outside data values. Shared by the language tests and
by anyone checking a report by hand::

    python -m tests.language_check reports/2026-Q3/east/funnel.html zh
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

PROPER_NAMES = {
    # currencies and units
    "CNY", "USD", "EUR", "GBP", "JPY", "HKD", "US", "CN",
    # method and model names, as Chinese analysts write them
    "RFM", "LTV", "CAC", "BG", "NBD", "Pareto", "Gamma", "Kaplan", "Meier", "Wilson", "Holm",
    "Mann", "Whitney", "TF", "IDF", "jieba", "Johnson", "Rocks", "Fader", "Hardie", "Reichheld",
    "Wald", "Cox", "KMeans", "crmkit", "Jupyter", "Newcombe", "Hodges", "Lehmann", "AUC", "DeLong",
    "Gold", "L1", "SLA",
    # file kinds and database engines, as named in a Sources table
    "CSV", "Excel", "Parquet", "DuckDB", "SQLite", "PostgreSQL", "MySQL", "UTF",
}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def visible_text(html: str) -> list[str]:
    """The page's text nodes (and alt/title attributes), without style and script."""
    parser = _Text()
    parser.feed(html)
    return parser.texts


def english_words(texts: list[str], allowed: set[str] = frozenset()) -> list[str]:
    """Latin-letter words of two letters or more that are neither proper names nor in
    ``allowed`` (the data's own values); tokens with digits (ids, pseudonyms) are ignored."""
    found = []
    for text in texts:
        for token in re.findall(r"[A-Za-z0-9_\-]*[A-Za-z]{2,}[A-Za-z0-9_\-]*", text):
            if re.search(r"\d", token) or token in PROPER_NAMES or token in allowed:
                continue
            if all(part in PROPER_NAMES or part in allowed for part in re.split(r"[-_]", token)):
                continue
            found.append(token)
    return found


def chinese_words(texts: list[str], allowed: set[str] = frozenset()) -> list[str]:
    """Runs of Chinese characters not in ``allowed`` (the data's own values)."""
    found = []
    for text in texts:
        for run in re.findall(r"[\u3400-\u9fff]+", text):
            if run not in allowed and not any(run in value for value in allowed):
                found.append(run)
    return found


if __name__ == "__main__":  # pragma: no cover - a hand check
    path, code = sys.argv[1], sys.argv[2]
    page = visible_text(Path(path).read_text(encoding="utf-8"))
    print((english_words if code == "zh" else chinese_words)(page))
