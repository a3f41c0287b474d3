"""Running many jobs: a pool of worker processes, a progress bar, then the index pages."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from crmkit.core.periods import Period
from crmkit.run.execute import Outcome, execute
from crmkit.run.plan import CELL_TIMEOUT, RUN_TIMEOUT, Job, plan_jobs
from crmkit.run.portfolio import write_period_index, write_root_index

WORKER_PRELOAD = "crmkit.run.worker"


@dataclass
class FleetResult:
    """How a whole ``crmkit run`` ended: each run's outcome and the portfolio page."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    index: Path | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]


def run_jobs(
    jobs: list[Job],
    *,
    workers: int | None = None,
    progress: bool = True,
) -> list[Outcome]:
    """Execute jobs in a pool of worker processes; a failure in one does not stop the others.

    Returns the outcomes in the order of ``jobs``.
    """
    from tqdm.auto import tqdm

    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    outcomes: list[Outcome] = []
    bar = tqdm(total=len(jobs), desc="reports", unit="run", disable=not progress)
    # Workers fork from a server that has imported papermill and nbconvert once, instead of
    # each importing them afresh (spawn) or inheriting the parent's threads (fork).
    context = get_context("forkserver")
    context.set_forkserver_preload([WORKER_PRELOAD])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(execute, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process itself died
                outcome = Outcome(
                    job.notebook,
                    job.params["business_unit"],
                    "failed",
                    f"Worker crashed: {type(exc).__name__}: {exc}",
                )
            outcomes.append(outcome)
            bar.update(1)
            bar.set_postfix_str(f"{outcome.business_unit}/{outcome.notebook} {outcome.status}")
    bar.close()
    order = {(j.params["business_unit"], j.notebook): k for k, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[(o.business_unit, o.notebook)])


def run_reports(
    period: Period,
    *,
    params_dir: Path,
    out: Path,
    notebooks_dir: Path | None = None,
    units: Iterable[str] | None = None,
    notebooks: Iterable[str] | None = None,
    as_of: str = "",
    workers: int | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    run_timeout: int = RUN_TIMEOUT,
    progress: bool = True,
) -> FleetResult:
    """Run every notebook for every unit for ``period`` and write the index pages.

    Planning is :func:`crmkit.run.plan.plan_jobs` (same arguments); it raises
    :class:`~crmkit.core.errors.ParameterError` before anything runs when there is nothing
    to run.
    """
    started = time.monotonic()
    jobs = plan_jobs(
        period,
        params_dir=params_dir,
        notebooks_dir=notebooks_dir,
        out=out,
        units=units,
        notebooks=notebooks,
        as_of=as_of,
        cell_timeout=cell_timeout,
        run_timeout=run_timeout,
    )
    outcomes = run_jobs(jobs, workers=workers, progress=progress)
    period_dir = Path(out) / period.label
    period_dir.mkdir(parents=True, exist_ok=True)
    index = write_period_index(period_dir, period)
    write_root_index(Path(out))
    return FleetResult(outcomes, round(time.monotonic() - started, 2), index)
