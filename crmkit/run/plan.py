"""Planning a run: which notebooks, for which units, with which parameters.

A :class:`Job` is one notebook for one unit and period, with everything a worker process
needs to execute it. Planning reads parameter files and looks for notebook files; it starts
no kernel and imports neither papermill nor nbconvert.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from crmkit.core.errors import ParameterError
from crmkit.core.periods import Period, check_period_ended, iso_day
from crmkit.run.params import load_params, unit_files
from crmkit.topics.registry import get_topics, topic_names

CELL_TIMEOUT = 600
"""Seconds one cell may run (``--cell-timeout``)."""
RUN_TIMEOUT = 1800
"""Seconds one notebook run may take in all (``--run-timeout``)."""


@dataclass(frozen=True)
class Job:
    """One notebook to run for one unit and period.

    ``params`` are the unit's merged parameters (``as_of`` included); ``cwd`` is the working
    directory of the notebook's kernel, ``out_dir`` the unit's folder of the period's reports.
    ``snapshot`` is the unit's staged data (:mod:`crmkit.load.snapshot`), empty for none;
    ``threads`` the OpenMP and BLAS threads of its kernel.
    """

    notebook: str
    notebook_path: str
    params: dict[str, Any]
    period: Period
    out_dir: str
    cwd: str
    cell_timeout: int = CELL_TIMEOUT
    run_timeout: int = RUN_TIMEOUT
    snapshot: str = ""
    threads: int = 1


def check_writable_folder(path: Path, *, what: str = "--out") -> None:
    """Refuse ``path`` unless it is a folder crmkit can write in, or one it can make: a file
    there, or a read-only place, would fail every run after the work was done.

    Raises
    ------
    ParameterError
        "--out reports.txt is a file, not a folder."
    """
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError(f"{what} {path}: {existing} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} {path}: cannot write in {existing} (read-only or not yours).")


def packaged_notebooks() -> Path:
    """The folder of the notebooks installed with crmkit (``crmkit/notebooks``)."""
    return Path(str(resources.files("crmkit") / "notebooks"))


def find_notebooks(
    notebooks_dir: Path | None = None, names: Iterable[str] | None = None
) -> dict[str, Path]:
    """The registered notebooks present in ``notebooks_dir`` (all, or the ``names`` asked
    for), in the registry's order.

    ``notebooks_dir`` defaults to the notebooks installed with crmkit. Files that are not a
    registered topic's notebook (``<name>.ipynb``) are ignored.

    Raises
    ------
    ParameterError
        If a name is not a registered topic, a named notebook is not in the folder, the folder
        does not exist, or it holds no registered notebook at all.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else packaged_notebooks()
    order = topic_names()
    topics = sorted(get_topics(list(names) if names else None), key=lambda t: order.index(t.name))
    if not folder.is_dir():
        raise ParameterError(f"Notebooks folder {folder} does not exist.")
    found = {t.name: folder / t.notebook for t in topics}
    missing = [name for name, path in found.items() if not path.is_file()]
    if names and missing:
        raise ParameterError(f"Notebook(s) {missing} not found in {folder}.")
    present = {name: path for name, path in found.items() if path.is_file()}
    if not present:
        expected = ", ".join(t.notebook for t in topics)
        raise ParameterError(f"No notebooks found in {folder}: expected any of {expected}.")
    return present


def check_distinct_units(planned: list[tuple[Path, dict[str, Any]]]) -> None:
    """Refuse two unit files naming one unit: their runs would overwrite each other's reports.
    Ids differing only in case count as one (one reports folder on Windows and macOS)."""
    seen: dict[str, tuple[Path, str]] = {}
    for file, params in planned:
        unit = params["business_unit"]
        other_file, other = seen.setdefault(unit.casefold(), (file, unit))
        if other_file == file:
            continue
        same = (
            f"the same unit {unit!r}"
            if other == unit
            else (
                f"units {other!r} and {unit!r}, which differ only in case (one folder on Windows "
                "and macOS)"
            )
        )
        raise ParameterError(
            f"Parameter files {other_file} and {file} name {same}: their reports would "
            "overwrite each other. Give each unit its own business_unit."
        )


def plan_jobs(
    period: Period,
    *,
    params_dir: Path,
    out: Path,
    notebooks_dir: Path | None = None,
    units: Iterable[str] | None = None,
    notebooks: Iterable[str] | None = None,
    as_of: str = "",
    cell_timeout: int = CELL_TIMEOUT,
    run_timeout: int = RUN_TIMEOUT,
) -> list[Job]:
    """Every (unit, notebook) run for the period, in a stable order: unit by unit, notebooks
    in the registry's order.

    Parameters
    ----------
    period
        The reporting period; each notebook receives its ``period_start`` and ``period_end``.
    params_dir
        The parameters folder: one YAML per unit (and an optional ``defaults.yaml``).
    out
        The reports folder; a run writes to ``out/<period>/<unit>/``.
    notebooks_dir
        Customised copies of the notebooks; default: the notebooks installed with crmkit.
    units, notebooks
        Run only these units / notebooks (default: all).
    as_of
        The day the data was read (ISO date), as ``crmkit validate --as-of``: it overrides a
        unit's own ``as_of``; empty keeps the unit's (and the unit's empty means today).
    cell_timeout, run_timeout
        Seconds per cell and per run.

    Returns
    -------
    list of Job
        Never empty.

    Notes
    -----
    Each notebook runs with the project root, the folder holding ``params_dir``, as its
    working directory: a customised notebook that reads ``sample_data/x.csv`` or writes
    ``exports/`` behaves as in JupyterLab opened at the project. ``load_params`` already makes
    a relative ``data_source`` absolute against the same folder.

    Raises
    ------
    ParameterError
        For an unknown unit or notebook name, a folder without unit files or without
        notebooks (planning zero runs is an error), two unit files naming the same unit, an
        ``as_of`` that is not a date, or a period that has not ended by ``as_of`` (or today).
        (A unit's own ``as_of`` before the period end is the unit's problem, which loading
        refuses for that unit alone.)
    """
    params_dir = Path(params_dir)
    run_day = iso_day(as_of, what="--as-of")
    check_period_ended(period, as_of=run_day, source="--as-of" if run_day else "")
    files = unit_files(params_dir)
    planned = [(f, load_params(f)) for f in files]
    check_distinct_units(planned)
    if units:
        wanted = list(units)
        known = [p["business_unit"] for _, p in planned]
        unknown = [u for u in wanted if u not in known]
        if unknown:
            raise ParameterError(
                f"Unit(s) {unknown} have no parameter file in {params_dir}; units: {known}."
            )
        planned = [(f, p) for f, p in planned if p["business_unit"] in wanted]
    found = find_notebooks(notebooks_dir, notebooks)
    check_writable_folder(Path(out))
    period_dir = (Path(out) / period.label).resolve()
    cwd = str(params_dir.resolve().parent)
    jobs = []
    for file, params in planned:
        iso_day(params.get("as_of"), what=f"as_of in {file}")  # a clear error before any run
        out_dir = period_dir / params["business_unit"]
        if out_dir.parent != period_dir or out_dir.name != params["business_unit"]:
            # load_params refuses such ids already; this keeps any other caller inside --out
            raise ParameterError(f"Unit {params['business_unit']!r} would write outside {out}.")
        unit_params_as_of = {**params, "as_of": as_of or params.get("as_of") or ""}
        for name, path in found.items():
            jobs.append(
                Job(
                    notebook=name,
                    notebook_path=str(path.resolve()),
                    params=unit_params_as_of,
                    period=period,
                    out_dir=str(out_dir),
                    cwd=cwd,
                    cell_timeout=cell_timeout,
                    run_timeout=run_timeout,
                )
            )
    return jobs
