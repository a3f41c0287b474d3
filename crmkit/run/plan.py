"""Planning a run: which notebooks, for which units, with which parameters.

A :class:`Job` is one notebook for one unit and period, with everything a worker process
needs to execute it. Planning reads parameter files and looks for notebook files; it starts
no kernel and imports neither papermill nor nbconvert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from crmkit.core.errors import ParameterError
from crmkit.core.periods import Period
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
    """

    notebook: str
    notebook_path: str
    params: dict[str, Any]
    period: Period
    out_dir: str
    cwd: str
    cell_timeout: int = CELL_TIMEOUT
    run_timeout: int = RUN_TIMEOUT


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
        notebooks: planning zero runs is an error.
    """
    params_dir = Path(params_dir)
    unit_params = [load_params(f) for f in unit_files(params_dir)]
    if units:
        wanted = list(units)
        known = [p["business_unit"] for p in unit_params]
        unknown = [u for u in wanted if u not in known]
        if unknown:
            raise ParameterError(
                f"Unit(s) {unknown} have no parameter file in {params_dir}; units: {known}."
            )
        unit_params = [p for p in unit_params if p["business_unit"] in wanted]
    found = find_notebooks(notebooks_dir, notebooks)
    period_dir = Path(out) / period.label
    cwd = str(params_dir.resolve().parent)
    jobs = []
    for params in unit_params:
        unit_params_as_of = {**params, "as_of": as_of or params.get("as_of") or ""}
        for name, path in found.items():
            jobs.append(
                Job(
                    notebook=name,
                    notebook_path=str(path.resolve()),
                    params=unit_params_as_of,
                    period=period,
                    out_dir=str((period_dir / params["business_unit"]).resolve()),
                    cwd=cwd,
                    cell_timeout=cell_timeout,
                    run_timeout=run_timeout,
                )
            )
    return jobs
