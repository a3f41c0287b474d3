"""The report pipeline: notebooks × units for a period, executed with papermill, rendered to
offline HTML, summarised on index pages.

Layout (see DESIGN.md)::

    <out>/index.html                              periods
    <out>/<period>/index.html                     portfolio: units × key figures, status, links
    <out>/<period>/<unit>/<notebook>.html         stakeholder report, no code
    <out>/<period>/<unit>/<notebook>.ipynb        executed notebook
    <out>/<period>/<unit>/<notebook>.json         key results

Every output file is written to a temporary name and renamed into place, so a crash never
leaves a half-written file where a good one was.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import nbformat

from crmkit.core.errors import ParameterError
from crmkit.core.periods import Period
from crmkit.present.fonts import FONT_STACK, embed_fonts
from crmkit.present.format import num, pct
from crmkit.present.notebook import RESULTS_MIMETYPE
from crmkit.run.params import load_params, unit_files

NOTEBOOKS = ("data_quality", "segmentation", "funnel", "clv", "satisfaction", "churn", "health")
TITLES = {
    "data_quality": "Data quality",
    "segmentation": "Customer segmentation",
    "funnel": "Sales funnel",
    "clv": "Customer lifetime value",
    "satisfaction": "Satisfaction and NPS",
    "churn": "Churn",
    "health": "Relationship health",
}
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove_cell"}
TEMPLATES = Path(__file__).parent / "templates"

# Figures shown on the portfolio page, per notebook: (results key, label, format).
KEY_FIGURES: dict[str, list[tuple[str, str, str]]] = {
    "data_quality": [
        ("customers", "Customers", "int"),
        ("orders_in_period", "Orders in period", "int"),
        ("rows_dropped", "Rows dropped", "int"),
        ("rows_repaired", "Rows repaired", "int"),
    ],
    "clv": [
        ("mean_clv", "Mean CLV (12 months)", "money"),
        ("model_selected", "CLV model", "model"),
    ],
    "funnel": [
        ("win_rate", "Win rate", "pct"),
        ("bottleneck_summary", "Step that fell most", "text"),
    ],
    "satisfaction": [
        ("nps", "NPS", "score"),
        ("csat", "CSAT", "pct"),
    ],
    "segmentation": [
        ("top20_revenue_share", "Top 20% revenue share", "pct"),
        ("n_clusters", "Behavioural clusters", "int"),
    ],
}


@dataclass(frozen=True)
class Job:
    """One notebook to run for one unit and period."""

    notebook: str
    notebook_path: str
    params: dict[str, Any]
    period: Period
    out_dir: str
    cwd: str
    cell_timeout: int = 600
    run_timeout: int = 1800


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


# ----------------------------------------------------------------------------- planning


def find_notebooks(notebooks_dir: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """The contract notebooks present in ``notebooks_dir`` (all, or the ``names`` asked for)."""
    wanted = list(names) if names else list(NOTEBOOKS)
    unknown = [n for n in wanted if n not in NOTEBOOKS]
    if unknown:
        raise ParameterError(f"Unknown notebook(s) {unknown}; notebooks are {list(NOTEBOOKS)}.")
    found = {n: notebooks_dir / f"{n}.ipynb" for n in wanted}
    missing = [n for n, p in found.items() if not p.exists()]
    if names and missing:
        raise ParameterError(f"Notebook(s) {missing} not found in {notebooks_dir}.")
    return {n: p for n, p in found.items() if p.exists()}


def plan_jobs(
    period: Period,
    *,
    params_dir: Path,
    notebooks_dir: Path,
    out: Path,
    units: Iterable[str] | None = None,
    notebooks: Iterable[str] | None = None,
    cell_timeout: int = 600,
    run_timeout: int = 1800,
) -> list[Job]:
    """Every (notebook, unit) run for the period, in a stable order."""
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
    period_dir = out / period.label
    return [
        Job(
            notebook=name,
            notebook_path=str(path.resolve()),
            params=params,
            period=period,
            out_dir=str((period_dir / params["business_unit"]).resolve()),
            cwd=str(notebooks_dir.resolve()),
            cell_timeout=cell_timeout,
            run_timeout=run_timeout,
        )
        for params in unit_params
        for name, path in found.items()
    ]


# ----------------------------------------------------------------------------- one run


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


def _on_alarm(signum, frame):  # pragma: no cover - exercised through execute()
    raise RunTimeout()


def execute(job: Job) -> Outcome:
    """Run one notebook for one unit; write its .ipynb, .json and .html. Never raises."""
    import papermill

    started = time.monotonic()
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{job.notebook}.ipynb"
    partial = out_dir / f".{job.notebook}.{os.getpid()}.partial.ipynb"
    unit = job.params["business_unit"]
    reason = ""
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
        reason = f"The run took longer than its limit of {job.run_timeout} s and was stopped."
    except papermill.PapermillExecutionError as exc:
        reason = f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename
    except Exception as exc:  # a kernel that dies, a cell timeout, a bad notebook file
        reason = f"{type(exc).__name__}: {exc}".strip()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_handler)
        shutil.rmtree(sockets, ignore_errors=True)
    seconds = time.monotonic() - started
    try:
        executed = nbformat.read(partial, as_version=4) if partial.exists() else None
        results = extract_results(executed) if executed is not None and not reason else {}
        if not reason and results is None:
            reason = "The notebook finished without publishing its results (ck.nb.publish_results)."
        status = "failed" if reason else "ok"
        record = {
            "notebook": job.notebook,
            "business_unit": unit,
            "display_name": job.params.get("display_name") or unit,
            "period": job.period.label,
            "period_start": job.period.start.isoformat(),
            "period_end": job.period.end.isoformat(),
            "status": status,
            "reason": reason,
            "seconds": round(seconds, 2),
            "results": results or {},
        }
        if executed is not None:
            executed.metadata["crmkit"] = report_metadata(job)
        if status == "ok":
            atomic_write(out_dir / f"{job.notebook}.html", render_html(executed))
        else:
            atomic_write(out_dir / f"{job.notebook}.html", render_failure(job, reason))
        atomic_write(
            out_dir / f"{job.notebook}.json",
            json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        )
        if executed is not None:
            atomic_write(final, nbformat.writes(executed))
    except Exception as exc:
        status, reason = "failed", f"Writing the report failed: {type(exc).__name__}: {exc}"
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(job.notebook, unit, status, reason, round(seconds, 2))


def extract_results(executed: nbformat.NotebookNode) -> dict | None:
    """The last results a notebook published (``ck.nb.publish_results``), or ``None``."""
    found = None
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIMETYPE in data:
                found = data[RESULTS_MIMETYPE]
    return found


def report_metadata(job: Job) -> dict[str, str]:
    from crmkit import __version__

    period = job.period
    return {
        "title": TITLES.get(job.notebook, job.notebook),
        "unit": job.params["business_unit"],
        "unit_name": job.params.get("display_name") or job.params["business_unit"],
        "period": f"{period.label} ({period.start:%Y-%m-%d} – {period.end:%Y-%m-%d})",
        "previous": f"{period.previous_start:%Y-%m-%d} – {period.previous_end:%Y-%m-%d}",
        "version": __version__,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


# ----------------------------------------------------------------------------- HTML


def stakeholder_view(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as a stakeholder sees it: no parameter cells, no warnings,
    no error output, no published-results payload."""
    view = copy.deepcopy(executed)
    cells = []
    for cell in view.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    continue
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    continue
                if RESULTS_MIMETYPE in output.get("data", {}):
                    continue
                outputs.append(output)
            cell.outputs = outputs
            if not outputs:
                continue
        cells.append(cell)
    view.cells = cells
    return view


@functools.cache
def _exporter():
    # Building the exporter compiles its templates: once per worker process, not per report.
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="crmkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_html(executed: nbformat.NotebookNode) -> str:
    """The stakeholder report: code hidden, charts embedded, nothing loaded from the network,
    a header with unit and period, and a contents list of the report's sections."""
    body, _ = _exporter().from_notebook_node(
        stakeholder_view(executed), resources={"font_stack": FONT_STACK}
    )
    return embed_fonts(add_contents(body))


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)


def add_contents(body: str) -> str:
    """Fill the template's contents placeholder with links to the report's sections."""
    items = []
    for anchor, inner in _HEADING.findall(body):
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        items.append(f'<li><a href="#{anchor}">{text}</a></li>')
    nav = (
        f'<nav class="crmkit-toc"><strong>Contents</strong><ol>{"".join(items)}</ol></nav>'
        if items
        else ""
    )
    return body.replace("<!--crmkit-toc-->", nav, 1)


def render_failure(job: Job, reason: str) -> str:
    meta = report_metadata(job)
    return _page(
        f"{meta['unit_name']} · {meta['title']} — failed",
        f"<h1>{html.escape(meta['unit_name'])} · {html.escape(meta['title'])}</h1>"
        f"<p class='meta'>Period {html.escape(meta['period'])}</p>"
        f"<p class='failed'><strong>This report could not be produced.</strong></p>"
        f"<pre class='reason'>{html.escape(reason)}</pre>"
        f"<p>The executed notebook <a href='{job.notebook}.ipynb'>{job.notebook}.ipynb</a> "
        f"holds the error for an analyst. <a href='../index.html'>All units</a></p>",
    )


# ----------------------------------------------------------------------------- index pages

_PAGE_CSS = """
body { font-family: FONT_STACK; color: #222;
       max-width: 1200px; margin: 24px auto; padding: 0 24px; }
h1 { color: #1d3b58; border-bottom: 3px solid #2F5D8A; padding-bottom: 6px; }
.meta { color: #555; }
table { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1f7a4d; font-weight: 600; }
.failed { color: #b3261e; font-weight: 600; }
.reason { color: #b3261e; font-size: 0.85em; white-space: pre-wrap; margin: 2px 0 0; }
a { color: #2F5D8A; }
"""


def _page(title: str, body: str) -> str:
    css = _PAGE_CSS.replace("FONT_STACK", FONT_STACK)
    return embed_fonts(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "model":
        return {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}.get(value, html.escape(str(value)))
    if kind == "text":
        return html.escape(str(value))
    if kind in ("money", "score"):
        return num(value, 0)
    return {"int": num, "pct": pct}.get(kind, lambda v: num(v, 2))(value)


def read_records(period_dir: Path) -> dict[str, dict[str, dict]]:
    """``{unit: {notebook: json record}}`` for every run written under ``period_dir``."""
    records: dict[str, dict[str, dict]] = {}
    for path in sorted(period_dir.glob("*/*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        records.setdefault(path.parent.name, {})[path.stem] = record
    return records


def write_period_index(period_dir: Path, period: Period) -> Path:
    """The portfolio page: one row per unit, its key figures, each report's status and link."""
    records = read_records(period_dir)
    notebooks = [n for n in NOTEBOOKS if any(n in r for r in records.values())]
    figures = [
        (n, key, label, kind) for n in notebooks for key, label, kind in KEY_FIGURES.get(n, [])
    ]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, _, label, _ in figures)
    head += "".join(f"<th>{html.escape(TITLES[n])}</th>" for n in notebooks)
    rows = []
    failures = 0
    for unit, by_notebook in sorted(records.items()):
        name = next(iter(by_notebook.values())).get("display_name", unit)
        cells = [
            f"<td><strong>{html.escape(str(name))}</strong><br>"
            f"<span class='meta'>{html.escape(unit)}</span></td>"
        ]
        for notebook, key, _, kind in figures:
            record = by_notebook.get(notebook, {})
            value = record.get("results", {}).get(key) if record.get("status") == "ok" else None
            cells.append(f"<td class='num'>{_format(value, kind)}</td>")
        for notebook in notebooks:
            record = by_notebook.get(notebook)
            if record is None:
                cells.append("<td>–</td>")
            elif record["status"] == "ok":
                cells.append(
                    f"<td><a class='ok' href='{unit}/{notebook}.html'>ok · report</a></td>"
                )
            else:
                failures += 1
                reason = html.escape(record.get("reason", "")[:300])
                cells.append(
                    f"<td><a class='failed' href='{unit}/{notebook}.html'>failed</a>"
                    f"<div class='reason'>{reason}</div></td>"
                )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    status = (
        f"<span class='failed'>{failures} run(s) failed</span>"
        if failures
        else "<span class='ok'>all runs succeeded</span>"
    )
    body = (
        f"<h1>CRM portfolio · {html.escape(period.label)}</h1>"
        f"<p class='meta'>Period {period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}, compared with "
        f"{period.previous_start:%Y-%m-%d} – {period.previous_end:%Y-%m-%d} · "
        f"{len(records)} unit(s) · {status} · <a href='../index.html'>all periods</a></p>"
        f"<table><thead><tr><th>Unit</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table>"
        f"<p class='meta'>Generated {datetime.now():%Y-%m-%d %H:%M}.</p>"
    )
    path = period_dir / "index.html"
    atomic_write(path, _page(f"CRM portfolio {period.label}", body))
    return path


def write_root_index(out: Path) -> Path:
    """The list of periods with reports, newest first."""
    items = []
    for period_dir in sorted(
        (p for p in out.iterdir() if (p / "index.html").exists()),
        key=lambda p: p.name,
        reverse=True,
    ):
        records = read_records(period_dir)
        runs = [r for by_nb in records.values() for r in by_nb.values()]
        failed = sum(r["status"] != "ok" for r in runs)
        note = f"{len(records)} unit(s), {len(runs)} report(s)" + (
            f", <span class='failed'>{failed} failed</span>" if failed else ""
        )
        items.append(
            f"<li><a href='{period_dir.name}/index.html'>{html.escape(period_dir.name)}"
            f"</a> <span class='meta'>{note}</span></li>"
        )
    path = out / "index.html"
    atomic_write(path, _page("CRM reports", f"<h1>CRM reports</h1><ul>{''.join(items)}</ul>"))
    return path


# ----------------------------------------------------------------------------- the fleet


@dataclass
class FleetResult:
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
    """Execute jobs in a pool of worker processes; a failure in one does not stop the others."""
    from tqdm.auto import tqdm

    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    outcomes: list[Outcome] = []
    bar = tqdm(total=len(jobs), desc="reports", unit="run", disable=not progress)
    # Workers fork from a server that has imported papermill and nbconvert once, instead of
    # each importing them afresh (spawn) or inheriting the parent's threads (fork).
    context = get_context("forkserver")
    context.set_forkserver_preload(["crmkit.run.worker"])
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
    notebooks_dir: Path,
    out: Path,
    units: Iterable[str] | None = None,
    notebooks: Iterable[str] | None = None,
    workers: int | None = None,
    cell_timeout: int = 600,
    run_timeout: int = 1800,
    progress: bool = True,
) -> FleetResult:
    """Run every notebook for every unit for ``period`` and write the index pages."""
    started = time.monotonic()
    jobs = plan_jobs(
        period,
        params_dir=params_dir,
        notebooks_dir=notebooks_dir,
        out=out,
        units=units,
        notebooks=notebooks,
        cell_timeout=cell_timeout,
        run_timeout=run_timeout,
    )
    outcomes = run_jobs(jobs, workers=workers, progress=progress)
    period_dir = out / period.label
    period_dir.mkdir(parents=True, exist_ok=True)
    index = write_period_index(period_dir, period)
    write_root_index(out)
    return FleetResult(outcomes, round(time.monotonic() - started, 2), index)
