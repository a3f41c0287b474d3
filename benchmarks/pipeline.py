"""Fleet wall time of `crmkit run` against its floor.

The floor is what the pipeline costs with no analysis in it: the same number of runs of an
empty notebook that has the same parameters and imports, through the same per-run path
(papermill, kernel start, imports, HTML export, JSON), run one after another in this process
and divided by the worker count. The fleet is the real `crmkit run` over every sample unit.

    python benchmarks/pipeline.py [--jobs 2] [--notebook data_quality ...]

Target (issue #2): fleet ≤ 1.25 × floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmkit.core.periods import parse_period  # noqa: E402
from crmkit.run.execute import execute  # noqa: E402
from crmkit.run.fleet import run_reports  # noqa: E402
from crmkit.run.plan import find_notebooks, plan_jobs  # noqa: E402


def empty_twin(notebook: Path, folder: Path) -> Path:
    """The notebook's parameters cell and its import lines, and nothing else."""
    source = nbformat.read(notebook, as_version=4)
    cells = []
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.metadata.get("tags", []):
            cells.append(cell)
            continue
        imports = [
            line for line in cell.source.splitlines() if line.startswith(("import ", "from "))
        ]
        if imports:
            cells.append(nbformat.v4.new_code_cell("\n".join(imports)))
    # crmkit loads its modules lazily: touch the ones the real notebook uses, so the empty
    # twin pays the same import bill (pandas, matplotlib, seaborn, the inline backend).
    cells.append(
        nbformat.v4.new_code_cell(
            "import crmkit.present.notebook, crmkit.core.periods\n"
            "import crmkit.present.plots, crmkit.metrics.quality\n"
            "import matplotlib.pyplot as plt\n"
            "ck.nb.publish_results({})"
        )
    )
    twin = nbformat.v4.new_notebook(cells=cells, metadata=source.metadata)
    path = folder / notebook.name
    nbformat.write(twin, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--notebook", action="append")
    parser.add_argument("--period", default="2026-Q3")
    args = parser.parse_args()
    period = parse_period(args.period)
    packaged = find_notebooks(names=args.notebook)
    notebooks = list(packaged)
    work = Path(tempfile.mkdtemp(prefix="crmkit-bench-"))
    try:
        empty_dir = work / "empty"
        empty_dir.mkdir()
        for name in notebooks:
            empty_twin(packaged[name], empty_dir)
        jobs = plan_jobs(
            period,
            params_dir=ROOT / "parameters",
            notebooks_dir=empty_dir,
            out=work / "empty_out",
            notebooks=notebooks,
        )
        execute(jobs[0])  # warm the file cache and imports once, as the fleet's workers are
        floor_runs = []
        for job in jobs:
            started = time.perf_counter()
            outcome = execute(job)
            floor_runs.append(time.perf_counter() - started)
            assert outcome.status == "ok", outcome.reason
        floor = sum(floor_runs) / args.jobs

        started = time.perf_counter()
        empty_fleet = run_reports(
            period,
            params_dir=ROOT / "parameters",
            notebooks_dir=empty_dir,
            out=work / "empty_fleet",
            notebooks=notebooks,
            workers=args.jobs,
            progress=False,
        )
        empty_wall = time.perf_counter() - started
        assert not empty_fleet.failed

        started = time.perf_counter()
        result = run_reports(
            period,
            params_dir=ROOT / "parameters",
            out=work / "reports",
            notebooks=notebooks,
            workers=args.jobs,
            progress=False,
        )
        fleet = time.perf_counter() - started
        failed = result.failed
        print(
            f"runs: {len(jobs)} ({len(notebooks)} notebook(s) × "
            f"{len(jobs) // len(notebooks)} units), workers: {args.jobs}"
        )
        print(f"empty run: median {statistics.median(floor_runs):.2f} s")
        print(
            "real runs: "
            + ", ".join(
                f"{o.business_unit}/{o.notebook} {o.seconds:.1f} s" for o in result.outcomes
            )
        )
        print(f"floor (empty runs / workers): {floor:.2f} s")
        print(
            f"empty fleet wall time:        {empty_wall:.2f} s "
            f"({empty_wall / floor:.2f}× the floor: the pipeline's own overhead)"
        )
        print(f"fleet wall time:              {fleet:.2f} s")
        print(
            f"ratio: {fleet / floor:.2f}× the floor (target ≤ 1.25×)"
            + (f"; {len(failed)} run(s) FAILED" if failed else "")
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
