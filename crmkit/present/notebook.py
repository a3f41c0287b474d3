"""Presentation helpers for notebooks: readable tables, findings text and published results.

These format and display; they compute nothing that needs testing beyond formatting.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit.core.periods import check_period_ended, iso_day, period_from_dates
from crmkit.load.unit import CRMData, load_unit
from crmkit.present.format import count, day, money, num, p_value, pct, signed
from crmkit.present.language import is_term, set_language, term, words

RESULTS_MIMETYPE = "application/vnd.crmkit.results+json"


def open_unit(namespace: Mapping[str, Any]) -> CRMData:
    """A notebook's set-up in one call: the chart theme, and the unit loaded with the loading
    parameters found in ``namespace`` (pass ``globals()`` after the parameters cell).

    Topic parameters (``funnel_stages`` ...) stay notebook variables; only the names
    :func:`~crmkit.load.unit.load_unit` takes are read here, and ``language``, which sets
    the report language (:func:`crmkit.present.language.set_language`).

    A period not over on ``as_of`` (or today) is refused: its figures would cover part of it
    (:func:`~crmkit.core.periods.check_period_ended`). A ``snapshot`` folder (``crmkit run``
    stages each unit once, :mod:`crmkit.load.snapshot`) is read instead of the source when
    it was made with these loading parameters.
    """
    from crmkit.load.snapshot import loading_key, read_snapshot
    from crmkit.present.plots import use_theme

    set_language(namespace.get("language") or "en")
    use_theme()
    if namespace.get("period_start") and namespace.get("period_end"):
        period = period_from_dates(namespace["period_start"], namespace["period_end"])
        as_of = iso_day(str(namespace.get("as_of") or "")[:10], what="as_of")
        check_period_ended(period, as_of=as_of, source="as_of" if as_of else "")
    accepted = [
        name
        for name, parameter in inspect.signature(load_unit).parameters.items()
        if parameter.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    if namespace.get("snapshot"):
        staged = read_snapshot(namespace["snapshot"], key=loading_key(namespace))
        if staged is not None:
            return staged
    return load_unit(**{name: namespace[name] for name in accepted if name in namespace})


def table(
    frame: pd.DataFrame,
    *,
    percent: Iterable[str] = (),
    money_columns: Iterable[str] = (),
    integers: Iterable[str] = (),
    counts: Iterable[str] = (),
    changes: Iterable[str] | Mapping[str, int] = (),
    dates: Iterable[str] = (),
    p_values: Iterable[str] = (),
    decimals: Mapping[str, int] | None = None,
    caption: str = "",
    labels: Mapping[str, str] | None = None,
    currency: str = "",
):
    """A pandas Styler for reading: % for shares, thousands separators, money in
    ``currency``, counts and their medians without a needless ``.0``, changes with their
    sign (``changes``: columns, or columns and their decimals), dates, p-values to three
    decimals (``<0.001`` below), yes/no for booleans, no index, missing shown as '–'; words
    left-aligned, numbers right; all by the report's language.

    Headers are the glossary names of the columns (:func:`crmkit.present.language.term`);
    a column named by the data (a breakdown column such as ``region``) takes its header
    from ``labels``; any other column keeps its name, underscores as spaces.
    """
    yes, no = words("common.yes"), words("common.no")
    formats: dict[str, Any] = {
        c: (lambda v: "–" if pd.isna(v) else (yes if v else no))
        for c in frame.columns
        if pd.api.types.is_bool_dtype(frame[c])
    }
    formats.update({c: (lambda v: pct(v)) for c in percent})
    formats.update({c: (lambda v: money(v, currency, digits=0)) for c in money_columns})
    formats.update({c: (lambda v: num(v)) for c in integers})
    formats.update({c: count for c in counts})  # medians of counts: 29, 4.5
    digits = changes if isinstance(changes, Mapping) else dict.fromkeys(changes, 0)
    formats.update({c: (lambda v, d=d: signed(v, d)) for c, d in digits.items()})  # +16, −2.4
    formats.update({c: p_value for c in p_values})
    formats.update({c: (lambda v: day(v).replace(" ", "\u00a0")) for c in dates})  # unbroken
    for column, digits in (decimals or {}).items():
        formats[column] = lambda v, d=digits: num(v, d)
    for column in frame.columns:  # any other number: thousands separated, reals to 2 decimals
        if column in formats:
            continue
        if pd.api.types.is_float_dtype(frame[column]):
            formats[column] = lambda v: num(v, 2)
        elif pd.api.types.is_integer_dtype(frame[column]):
            formats[column] = lambda v: num(v)
    styler = (
        frame.style.format(formats, na_rep="–")
        .format_index(lambda c: header(c, labels), axis=1)
        .hide(axis="index")
    )
    word_columns = [i for i, column in enumerate(frame.columns) if _is_words(frame[column])]
    if word_columns:
        styler = styler.set_table_styles(
            [
                {"selector": f"th.col_heading.col{i}, td.col{i}", "props": "text-align: left;"}
                for i in word_columns
            ],
            overwrite=False,
        )
    if caption:
        styler = styler.set_caption(caption)
    return styler


def header(column: object, labels: Mapping[str, str] | None = None) -> str:
    """A table header: ``labels[column]``, else the column's glossary name, else the column
    name with underscores as spaces."""
    if labels and column in labels:
        return labels[column]
    if is_term(str(column)):
        return term(str(column))
    return str(column).replace("_", " ")


def heading(key: str, *, level: int = 2) -> None:
    """Display a section heading from the catalogue (``<key>``) and, when the catalogue has
    one, its introduction (``<key>_intro``) under it."""
    from IPython.display import Markdown, display

    from crmkit.present.language import UnknownWords

    text = f"{'#' * level} {words(key)}"
    with contextlib.suppress(UnknownWords):
        text += "\n\n" + words(f"{key}_intro")
    display(Markdown(text))


def _is_words(column: pd.Series) -> bool:
    """Text that reads as words (names, rules, comments), not numbers kept as text such as
    ``"55% (48–61%)"``: most values do not start with a digit or a sign."""
    textual = pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)
    if not (textual or isinstance(column.dtype, pd.CategoricalDtype)):
        return False
    text = column.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return False
    return bool((~text.str.match(r"[\d+\-−–<>.]")).mean() > 0.5)


def show(drawn) -> None:
    """Display a chart now (an Axes or Figure) and close it, so charts drawn in a loop sit
    beside the tables displayed with them instead of piling up at the end of the cell."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    figure = getattr(drawn, "figure", drawn)
    display(figure)
    plt.close(figure)


def findings(items: Iterable[str], title: str = "") -> str:
    """Markdown for the key-findings block at the top of a report."""
    lines = [f"## {title or words('common.findings_title')}", ""] + [f"- {i}" for i in items]
    return "\n".join(lines)


def to_json_ready(value: Any) -> Any:
    """Plain JSON types: NumPy and pandas scalars to Python, NaN to None, dates to ISO text."""
    if isinstance(value, Mapping):
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | pd.Series | np.ndarray):
        return [to_json_ready(v) for v in list(value)]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is pd.NA or value is None:
        return None
    return value


def publish_results(results: Mapping[str, Any], flags: Iterable[Any] = ()) -> None:
    """Display a notebook's key results, and the flags it raised, where ``crmkit run`` (or
    any reader of the executed notebook) finds them: an output of type
    ``application/vnd.crmkit.results+json`` holding ``{"results": ..., "flags": [...]}``.

    The report template does not render this output type, so it never shows in the HTML.
    """
    from IPython.display import display

    records = [f.to_record() if hasattr(f, "to_record") else f for f in flags if f is not None]
    payload = to_json_ready({"results": dict(results), "flags": records})
    json.dumps(payload)  # fail here, in the notebook, if anything is not JSON-ready
    display({RESULTS_MIMETYPE: payload}, raw=True)


def show_tables(
    frames: Mapping[str, pd.DataFrame], *, caption: str = "By {key}", **formats: Any
) -> None:
    """Display one reading table per entry of ``frames`` (captioned with its key)."""
    from IPython.display import display

    for key, frame in frames.items():
        display(table(frame, caption=caption.format(key=key.replace("_", " ")), **formats))
