"""An Airflow DAG for crmkit: one task per unit × notebook, the index page written last.

Copy it to your DAGs folder and set PROJECT: a folder every Airflow worker sees at the same
path (a shared file system), holding ``parameters/`` and where ``reports/`` is written; the
workers need crmkit installed (``pip install crmkit``) and read the units' data sources.

Shape, for each quarter (the DAG's data interval):

    units ──► [per unit: stage ──► data_quality, segmentation, funnel, clv, ...] ──► index

- ``crmkit stage`` loads a unit once into ``reports/<period>/<unit>/snapshot/``; its notebook
  tasks read that snapshot (``--snapshots staged``) instead of loading the source again.
- ``crmkit run --unit U --notebook N --no-index`` runs one report; ``crmkit index`` shares each
  unit's flags across its reports and writes the portfolio page once all reports are done,
  whatever failed (``trigger_rule="all_done"``): a failed report shows as failed there.
- The unit task group is mapped over the units. Airflow maps at most ``max_map_length``
  (``[core]``, default 1,024) instances of a task, so one DAG reaches 1,024 units with any
  number of notebooks (7 × 1,024 runs); beyond that, raise ``max_map_length`` or split the
  units over several DAGs by parameters folder.
- Each task runs one notebook: ``--jobs 1`` gives its kernel every core of the worker. Where
  one Airflow worker runs several tasks at once, set ``OMP_NUM_THREADS=1`` (and
  ``OPENBLAS_NUM_THREADS=1``) in the workers' environment so kernels do not oversubscribe
  the cores.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import yaml
from airflow.decorators import dag, task, task_group

PROJECT = "/srv/crm"  # shared: parameters/ in, reports/ out
NOTEBOOKS = ["data_quality", "segmentation", "funnel", "clv", "satisfaction", "churn", "health"]
PERIOD = "{{ data_interval_start.year }}-Q{{ data_interval_start.quarter }}"
WHERE = f"--period {PERIOD} --params parameters --out reports"


@dag(
    schedule="0 6 2 1,4,7,10 *",  # the 2nd of each quarter's first month: the last quarter
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=32,
    tags=["crmkit"],
)
def crmkit_quarterly_reports():
    @task
    def units() -> list[str]:
        files = sorted((Path(PROJECT) / "parameters").glob("*.y*ml"))
        return [
            yaml.safe_load(f.read_text(encoding="utf-8"))["business_unit"]
            for f in files
            if f.stem != "defaults"
        ]

    @task.bash(cwd=PROJECT)
    def stage(unit: str) -> str:
        return f"crmkit stage {WHERE} --unit {unit}"

    @task.bash(cwd=PROJECT, trigger_rule="all_done")  # a unit that cannot be staged: its
    def report(unit: str, notebook: str) -> str:  # reports load the source and say why
        return (
            f"crmkit run {WHERE} --unit {unit} --notebook {notebook} "
            "--snapshots staged --no-index --no-progress --jobs 1"
        )

    @task_group
    def unit_reports(unit: str):
        staged = stage(unit)
        for notebook in NOTEBOOKS:
            staged >> report.override(task_id=notebook)(unit, notebook)

    @task.bash(cwd=PROJECT, trigger_rule="all_done")
    def index() -> str:
        return f"crmkit index {WHERE}"

    unit_reports.expand(unit=units()) >> index()


crmkit_quarterly_reports()
