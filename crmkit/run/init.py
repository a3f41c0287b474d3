"""``crmkit init``: a starter project for one's own data.

::

    DIR/parameters/<unit>.yaml   the unit's parameters: what must be set, and every optional
                                 parameter commented out at its default, with its meaning
    DIR/data/README.md           the file names and required columns of the data contract
    DIR/notebooks/*.ipynb        with ``--notebooks``: copies of the notebooks, to customise

Everything written comes from the topic registry and the data contract, so it stays true as
they change. No ``defaults.yaml`` is written: the registry's defaults apply without one.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from crmkit.core.errors import ParameterError
from crmkit.core.schema import TABLES
from crmkit.load.sources import FILE_SUFFIXES
from crmkit.run.params import unit_id_problem
from crmkit.run.plan import find_notebooks
from crmkit.topics.registry import COMMON_PARAMETERS, TOPICS, Parameter, unit_parameters

DATA_FOLDER = "data"
_UNIT_NAME = re.compile(r"^\w[\w.-]*$")


def _yaml_literal(value: Any) -> str:
    """A value as YAML: a plain word where YAML reads it back as the same string, otherwise a
    flow literal (JSON is YAML)."""
    if isinstance(value, str) and value and yaml.safe_load(value) == value and "#" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _line(parameter: Parameter, value: Any, *, commented: bool) -> str:
    prefix = "# " if commented else ""
    return f"{prefix}{parameter.name}: {_yaml_literal(value)}  # {parameter.meaning}"


def unit_yaml(unit: str) -> str:
    """A unit's parameter file: the settings every unit makes, then each topic's parameters
    commented out at their defaults, with their meanings."""
    known = unit_parameters()
    lines = [
        f"# Parameters of the business unit {unit} for crmkit (written by `crmkit init`).",
        "# Set business_unit, currency and data_source; uncomment any other line to change it.",
        "# A relative data_source is read from the folder holding parameters/.",
        "",
        _line(known["business_unit"], unit, commented=False),
        _line(known["display_name"], unit, commented=False),
        "# currency is required and has no default: the ISO code of the unit's amounts.",
        _line(known["currency"], "", commented=False),
        _line(known["data_source"], DATA_FOLDER, commented=False),
    ]
    written = {"business_unit", "display_name", "currency", "data_source"}
    shared = [p for p in COMMON_PARAMETERS if p.name in known and p.name not in written]
    groups = [("Every report", shared)]
    groups += [(f"{t.title} ({t.name})", list(t.parameters)) for t in TOPICS.values()]
    for title, parameters in groups:
        if not parameters:
            continue
        lines += ["", f"# --- {title}"]
        lines += [_line(p, p.default, commented=True) for p in parameters]
    return "\n".join(lines) + "\n"


def data_readme() -> str:
    """The data folder's README: a file per contract table, its name and required columns."""
    suffixes = ", ".join(f"`{s}`" for s in FILE_SUFFIXES)
    lines = [
        "# Data",
        "",
        "One file per table of the data contract, named after the table: `customers.csv`,",
        f"`transactions.xlsx`, `surveys.parquet` ... (any of {suffixes}).",
        "A file of another name is mapped with the unit's `tables` parameter, other column",
        "names with `column_map`. Optional tables switch report sections on; a report says",
        "which sections it skipped and why.",
        "",
        "| file | table | one row per | required columns |",
        "|---|---|---|---|",
    ]
    for spec in TABLES.values():
        need = "required" if spec.required_table else "optional"
        columns = ", ".join(spec.required_columns)
        lines.append(f"| `{spec.name}.csv` | {need} | {spec.grain} | {columns} |")
    lines += [
        "",
        "Every table may hold several business units (a `business_unit` column) or just one.",
        "`crmkit validate --params parameters/<unit>.yaml` checks the files against the contract.",
    ]
    return "\n".join(lines) + "\n"


def write_project(folder: Path, *, unit: str = "my_unit", notebooks: bool = False) -> list[Path]:
    """Write a starter project into ``folder`` (created if needed); the paths written.

    Raises
    ------
    ParameterError
        If ``unit`` cannot be a file name, or any file to write already exists: nothing is
        written then, and nothing is ever overwritten.
    """
    folder = Path(folder)
    if not _UNIT_NAME.match(unit) or unit_id_problem(unit):
        problem = unit_id_problem(unit)
        raise ParameterError(
            f"--unit must be a unit id usable as a file name (letters, digits, _ . -); "
            f"got {unit!r}" + (f": {problem}." if problem else ".")
        )
    files: dict[Path, str | Path] = {
        folder / "parameters" / f"{unit}.yaml": unit_yaml(unit),
        folder / DATA_FOLDER / "README.md": data_readme(),
    }
    if notebooks:
        for name, path in find_notebooks().items():
            files[folder / "notebooks" / f"{name}.ipynb"] = path
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise ParameterError(
            f"init does not overwrite files, and these exist already: {existing}. "
            "Choose another folder, or move them away."
        )
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content, encoding="utf-8")
    return list(files)
