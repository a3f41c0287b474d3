"""Executing one run: a notebook for one unit and period, through papermill, to its outputs.

::

    <out>/<period>/<unit>/<notebook>.ipynb    executed notebook (errors kept, for analysts)
    <out>/<period>/<unit>/<notebook>.json     the run's record and the notebook's results
    <out>/<period>/<unit>/<notebook>.html     the stakeholder report, or the failure notice

Every output file is written to a temporary name and renamed into place, so a crash never
leaves a half-written file where a good one was. papermill is imported where it is used: this
module runs in the worker processes, which preload it (:mod:`crmkit.run.worker`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.run.html import render_failure, render_html, report_metadata
from crmkit.run.plan import CELL_TIMEOUT, RUN_TIMEOUT, Job

__all__ = [
    "CELL_TIMEOUT",
    "RUN_TIMEOUT",
    "Outcome",
    "RunTimeout",
    "atomic_write",
    "execute",
    "extract_results",
    "ipc_kernel_manager",
    "notebook_parameters",
]


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    notebook: str
    business_unit: str
    status: str  # "ok" or "failed"
    reason: str = ""
    seconds: float = 0.0


class RunTimeout(Exception):
    """The whole run took longer than its limit."""


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def notebook_parameters(job: Job) -> dict[str, Any]:
    """The parameters the notebook declares, taken from the unit's parameters and the period.

    Only declared names are passed: papermill would inject unknown ones with a warning.
    """
    import papermill

    declared = papermill.inspect_notebook(job.notebook_path)
    values = {
        **job.params,
        "period_start": job.period.start.isoformat(),
        "period_end": job.period.end.isoformat(),
    }
    return {name: values[name] for name in declared if name in values}


def ipc_kernel_manager(folder: Path) -> type:
    """A kernel manager whose kernel talks over Unix sockets in ``folder``.

    The default TCP transport picks free ports per process; kernels started at the same moment
    by parallel workers can pick the same port and a client can end up talking to another
    run's kernel (seen here as hung runs). Sockets in a folder of the run's own cannot collide.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / "kernel")

    return IPCKernelManager


def extract_results(executed: nbformat.NotebookNode) -> dict | None:
    """The last results a notebook published (``ck.nb.publish_results``), or ``None``."""
    found = None
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIMETYPE in data:
                found = data[RESULTS_MIMETYPE]
    return found


def _on_alarm(signum, frame):  # pragma: no cover - exercised through execute()
    raise RunTimeout()


def _run_notebook(job: Job, partial: Path) -> str:
    """Execute the notebook into ``partial``; the failure reason, or '' on success.

    Timeouts: ``job.cell_timeout`` goes to papermill (per cell); ``job.run_timeout`` is a
    SIGALRM in this process, which stops the run and shuts its kernel down.
    """
    import papermill

    previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(job.run_timeout)
    sockets = Path(tempfile.mkdtemp(prefix="crmkit-kernel-"))
    try:
        papermill.execute_notebook(
            job.notebook_path,
            str(partial),
            parameters=notebook_parameters(job),
            kernel_name="python3",
            cwd=job.cwd,
            execution_timeout=job.cell_timeout,
            progress_bar=False,
            log_output=False,
            kernel_manager_class=ipc_kernel_manager(sockets),
        )
    except RunTimeout:
        return f"The run took longer than its limit of {job.run_timeout} s and was stopped."
    except papermill.PapermillExecutionError as exc:
        return f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename
    except Exception as exc:  # a kernel that dies, a cell timeout, a bad notebook file
        return f"{type(exc).__name__}: {exc}".strip()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_handler)
        shutil.rmtree(sockets, ignore_errors=True)
    return ""


def run_record(job: Job, *, status: str, reason: str, seconds: float, results: dict) -> dict:
    """The ``<notebook>.json`` record of a run (the keys of the Outputs contract and more)."""
    unit = job.params["business_unit"]
    return {
        "notebook": job.notebook,
        "business_unit": unit,
        "display_name": job.params.get("display_name") or unit,
        "currency": job.params.get("currency") or "",
        "period": job.period.label,
        "period_start": job.period.start.isoformat(),
        "period_end": job.period.end.isoformat(),
        "status": status,
        "reason": reason,
        "seconds": round(seconds, 2),
        "results": results,
    }


def execute(job: Job) -> Outcome:
    """Run one notebook for one unit; write its .ipynb, .json and .html. Never raises."""
    started = time.monotonic()
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{job.notebook}.{os.getpid()}.partial.ipynb"
    reason = _run_notebook(job, partial)
    seconds = time.monotonic() - started
    try:
        executed = nbformat.read(partial, as_version=4) if partial.exists() else None
        results = extract_results(executed) if executed is not None and not reason else {}
        if not reason and results is None:
            reason = "The notebook finished without publishing its results (ck.nb.publish_results)."
        status = "failed" if reason else "ok"
        if executed is not None:
            executed.metadata["crmkit"] = report_metadata(job)
        page = render_html(executed) if status == "ok" else render_failure(job, reason)
        atomic_write(out_dir / f"{job.notebook}.html", page)
        record = run_record(
            job, status=status, reason=reason, seconds=seconds, results=results or {}
        )
        atomic_write(
            out_dir / f"{job.notebook}.json",
            json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        )
        if executed is not None:
            atomic_write(out_dir / f"{job.notebook}.ipynb", nbformat.writes(executed))
    except Exception as exc:
        status, reason = "failed", f"Writing the report failed: {type(exc).__name__}: {exc}"
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(job.notebook, job.params["business_unit"], status, reason, round(seconds, 2))
