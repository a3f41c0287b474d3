"""The contract matrix: every registered topic on every variant of data that meets the contract.

The variants (``tests/matrix.py``) are cut from the sample: only the required tables and
columns, each optional table absent or header-only, each optional column a report section
needs absent, and degenerate shapes. Each notebook runs in-process through its own code
(``tests/notebook_runner.py``), started in the background when the session's tests are
collected (``tests/matrix_runs.py``); a few variants also go through the real ``crmkit run``.

For each (topic, variant):

- a topic whose required table is absent refuses with one :class:`DataError` naming it
  (header-only, it may also run); otherwise the run raises nothing;
- the published results carry exactly the registry's keys, as strict JSON;
- when a variant lacks a table or column a section needs, a sentence says so, naming it:
  one of them when the section lacks all its inputs, each one when the section runs on the
  others (a breakdown by ``owner`` missing, CAC without ``costs``);
- no Python exception, ``nan`` or traceback text, and no personal data (the values of the
  contract's PII columns), reaches what a reader sees.
"""

from __future__ import annotations

import functools
import json
import re

import nbformat
import pytest
import yaml
from language_check import english_words
from matrix import PERIOD, UNIT, VARIANTS, build_variant, variant_facts, variant_tables
from matrix_runs import session_matrix
from notebook_runner import NOTEBOOKS, run_notebook

from crmkit.core.schema import PII_COLUMNS
from crmkit.topics.registry import TOPICS, Topic, parameter_defaults

READER_NOISE = re.compile(
    r"Traceback \(most recent|\b[A-Z]\w*(?:Error|Exception)\b|\b(?:nan|NaN|inf|NaT)\b|<NA>"
)
"""What a reader must never see: exception names, tracebacks, missing or infinite numbers."""
LONE_DASH = re.compile(r"(?:^|[\s(])–(?:[\s).,;:]|$)")
"""A number formatted as missing ("–") inside a sentence: "(– of revenue)"."""


# ----------------------------------------------------------------------------- running


@pytest.fixture(scope="module")
def matrix():
    """The session's runs of the variants (:mod:`matrix_runs`), started at collection."""
    return session_matrix()


# ----------------------------------------------------------------------------- checks


def _params(variant: str):
    for topic in TOPICS:
        marks = []
        yield pytest.param(topic, variant, id=f"{topic}-{variant}", marks=marks)


PAIRS = [p for variant in VARIANTS for p in _params(variant)]


SAYS_MISSING = re.compile(r"\b(?:no|not|without|skipped|missing|absent|none)\b")
"""Words of a sentence that says something is missing."""


def _names_for(need: str, absent: frozenset[str]) -> list[str]:
    """The words a sentence about a missing ``need`` may name: the column or family, or the
    table when the table itself is absent or empty."""
    table, _, column = need.partition(".")
    names = [column.rstrip("*")] if column else []
    if table in absent:
        names.append(table)
    return [n.lower() for n in names]


@functools.cache
def _personal_data(variant: str) -> re.Pattern | None:
    """The variant's personal data (values of the contract's PII columns), as one pattern:
    none of it may reach a report."""
    customers = variant_tables(variant)[0]["customers"]
    values = {
        v
        for column in PII_COLUMNS
        if column in customers.columns
        for v in customers[column].dropna().astype(str)
        if len(v) > 3
    }
    return re.compile("|".join(map(re.escape, sorted(values)))) if values else None


@functools.cache
def _data_words(variant: str) -> frozenset[str]:
    """The words of a variant's own data (values, column names) and of its parameters."""
    tables, parameters = variant_tables(variant)
    found = {"north", "North", *map(str, parameters.get("funnel_stages") or [])}
    found |= set(parameter_defaults()["funnel_stages"])
    for frame in tables.values():
        found |= set(frame.columns)
        for column in frame.columns:
            found |= set(frame[column].dropna().astype(str).unique())
    return frozenset(w for v in found for w in re.split(r"[^A-Za-z0-9_]+", v) if w) | found


def _absent_tables(topic: Topic, absent: frozenset[str]) -> list[str]:
    """The topic's required tables that are absent or header-only."""
    return [t for t in topic.tables if t in absent]


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_topic_runs_on_variant(topic, variant, matrix):
    outcome = matrix.outcome(topic, variant)
    spec = TOPICS[topic]
    absent, written = variant_facts(variant)
    missing = _absent_tables(spec, absent)
    if outcome.run is None:
        # Only a table the topic requires may stop it: one clean message naming the table.
        assert missing and "CrmkitError" in outcome.error_classes, outcome.describe()
        assert any(t in outcome.message for t in missing), outcome.message
        if any(t not in written for t in missing):
            assert "DataError" in outcome.error_classes, outcome.describe()
        return
    assert not [t for t in missing if t not in written], (
        f"{topic} ran without its required table(s) {missing}"
    )
    run = outcome.run
    assert run.results is not None, "no results published"
    assert set(run.results) == set(spec.results), (
        f"results keys differ from the registry: extra {set(run.results) - set(spec.results)}, "
        f"missing {set(spec.results) - set(run.results)}"
    )
    json.dumps(run.results, allow_nan=False)

    if variant.startswith("zh_"):
        # In Chinese: the skip sentences are checked in English on the same data; here, that
        # nothing shown is English beyond the data's own words and names in backticks.
        shown = re.sub(r"\]\(#[^)]*\)|`[^`]*`", "", run.markdown)
        assert english_words([shown], _data_words(variant)) == [], run.markdown
    lines = [line.lower() for line in run.markdown.splitlines()]
    for section in spec.sections if not variant.startswith("zh_") else ():
        lacking = [need for need in section.needs if need in absent]
        if not lacking:
            continue
        # All of a section's inputs absent: naming one is enough ("no `region` or `city`").
        # Some absent: each one, since the rest of the section runs without it.
        for group in [lacking] if lacking == list(section.needs) else [[n] for n in lacking]:
            words = [w for need in group for w in _names_for(need, absent)]
            assert any(
                SAYS_MISSING.search(line) and any(w in line for w in words) for line in lines
            ), (
                f"section {section.title!r} needs {group}, which {variant} lacks, and no "
                f"sentence says so naming {' or '.join(words)}. Markdown shown:\n{run.markdown}"
            )

    personal = _personal_data(variant)
    for output in run.outputs:
        if output.kind in ("markdown", "html", "text", "stream", "figure"):
            found = READER_NOISE.search(output.text)
            if not found and output.kind == "markdown":
                found = LONE_DASH.search(output.text)
            if not found and personal is not None:
                found = personal.search(output.text)
            assert not found, (
                f"cell {output.cell} shows {found.group()!r} to a reader: {output.text[:600]}"
            )


# ----------------------------------------------------------------------------- the runner


def test_runner_shows_what_a_kernel_would(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A title"),
        nbformat.v4.new_code_cell("x = 1  # a number\ny = 'kept'  # a word"),
        nbformat.v4.new_code_cell("print(x)\nx * 2"),
        nbformat.v4.new_code_cell("import warnings\nwarnings.warn('careful')\nNone"),
        nbformat.v4.new_code_cell(
            "import crmkit as ck\nfrom IPython.display import Markdown, display\n"
            "display(Markdown(f'**{x}** {y}'))\n"
            "ck.nb.publish_results({'x': x, 'nan': float('nan')})"
        ),
    ]
    notebook.cells[1].metadata["tags"] = ["parameters"]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    run = run_notebook(path, {"x": 5, "undeclared": 1})
    kinds = [(o.cell, o.kind, o.text) for o in run.outputs]
    assert kinds == [
        (2, "text", "10"),  # the last expression, as IPython shows it
        (2, "stream", "5\n"),
        (3, "warning", "UserWarning: careful"),
        (4, "markdown", "**5** kept"),
    ]
    assert run.results == {"x": 5, "nan": None}
    assert run.markdown == "**5** kept"


def test_runner_finds_a_bug_in_a_notebook_cell(tmp_path):
    """The runner executes the notebook file's own cells: the issue's CLV crash, put back
    into a copy of the notebook, is found as papermill would find it."""
    from crmkit.core.errors import ParameterError

    notebook = nbformat.read(NOTEBOOKS / "clv.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "analysis.by_channel is not None" in c.source)
    cell.source = 'clv.value_by(analysis, unit["customers"], by="acquisition_channel")'
    path = tmp_path / "clv.ipynb"
    nbformat.write(notebook, path)
    variant = build_variant("required_only", tmp_path / "data")
    with pytest.raises(ParameterError, match=r"\['acquisition_channel'\] required by value_by"):
        run_notebook(path, variant.notebook_parameters(), draw=False)
    run = run_notebook("clv", variant.notebook_parameters(), draw=False)  # as shipped
    assert set(run.results) == set(TOPICS["clv"].results)


# ----------------------------------------------------------------------------- crmkit run

CLI_VARIANTS = ("required_only", "five_customers", "one_order_per_customer")


@pytest.mark.slow
@pytest.mark.parametrize("variant", CLI_VARIANTS)
def test_crmkit_run_on_variant(variant, tmp_path):
    """The real pipeline (papermill, HTML, JSON): every topic whose required tables are there
    runs ok; the others fail with the one-line message naming the table, not a traceback."""
    from crmkit.run.cli import main

    built = build_variant(variant, tmp_path / "data")
    topics = list(TOPICS)
    refused = {n: _absent_tables(TOPICS[n], built.absent) for n in topics}
    params = tmp_path / "parameters"
    params.mkdir()
    unit = {
        "business_unit": UNIT,
        "currency": "USD",
        "data_source": str(built.folder),
        **built.parameters,
    }
    (params / f"{UNIT}.yaml").write_text(yaml.safe_dump(unit), encoding="utf-8")
    out = tmp_path / "reports"
    notebooks = [a for name in topics for a in ("--notebook", name)]
    run = ["run", "--params", str(params), "--out", str(out), "--period", "2026-Q3"]
    status = main([*run, *notebooks, "--jobs", "2", "--no-progress"])
    for name in topics:
        report = json.loads((out / "2026-Q3" / UNIT / f"{name}.json").read_text())
        assert report["period_start"] == PERIOD["period_start"]
        if refused[name]:
            assert report["status"] == "failed", (name, report)
            assert any(t in report["reason"] for t in refused[name]), report["reason"]
            assert "Traceback" not in report["reason"]
        else:
            assert report["status"] == "ok", (name, report)
            assert set(report["results"]) == set(TOPICS[name].results)
            html = (out / "2026-Q3" / UNIT / f"{name}.html").read_text(encoding="utf-8")
            assert "Traceback" not in html
            for section in TOPICS[name].sections:  # what a stakeholder reads says it too
                if section.needs and all(n in built.absent for n in section.needs):
                    words = [w for n in section.needs for w in _names_for(n, built.absent)]
                    assert any(w in html.lower() for w in words), (name, section.title)
    assert status == (1 if any(refused.values()) else 0)
