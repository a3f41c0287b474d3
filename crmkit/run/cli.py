"""The ``crmkit`` command: ``init``, ``sample``, ``validate``, ``run``, ``stage`` and ``index``.

Each command imports what it needs when it runs: ``sample`` and ``validate`` start without
papermill and nbconvert, which only ``run`` (and its worker processes) load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crmkit.core.errors import CrmkitError
from crmkit.core.periods import check_period_started, iso_day
from crmkit.run.plan import CELL_TIMEOUT, RUN_TIMEOUT
from crmkit.topics.registry import get_topics, topic_names

AS_OF_HELP = "day the data is read as of and relative periods count from (default: today)"


def skip_slow_optional_imports() -> None:
    """jsonschema imports ``rfc3987_syntax`` when it is installed (jupyterlab brings it),
    which builds a grammar at import and costs ~1.4 s in every process that reads a notebook.
    nbformat never validates IRIs, so crmkit's own processes (this command and the report
    workers) mark it as absent."""
    sys.modules.setdefault("rfc3987_syntax", None)


def cmd_sample(args: argparse.Namespace) -> int:
    from crmkit.run.plan import check_writable_folder
    from crmkit.run.sample_files import write_sample_files

    check_writable_folder(Path(args.out))
    written = write_sample_files(
        Path(args.out),
        seed=args.seed,
        customers=args.customers,
        units=args.units,
        fmt=args.format,
    )
    print(f"Wrote {len(written)} files to {args.out}/ (seed {args.seed}).")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from crmkit.core.periods import parse_period
    from crmkit.load.unit import load_unit
    from crmkit.run.params import load_params, unit_files

    as_of = iso_day(args.as_of, what="--as-of")
    period = parse_period(args.period, as_of=as_of)
    check_period_started(period, as_of=as_of, source="--as-of" if as_of else "")
    files = [Path(args.params)] if args.params else unit_files(Path(args.params_dir))
    status = 0
    for path in files:
        params = load_params(path)
        params["as_of"] = args.as_of or params.get("as_of") or ""
        unit = params["business_unit"]
        try:
            data = load_unit(**params, period=period)
        except CrmkitError as exc:
            print(f"✗ {unit}: {exc}")
            status = 1
            continue
        log = data.quality
        counts = ", ".join(f"{name} {len(t):,}" for name, t in data.tables.items())
        print(f"✓ {unit} ({period}): {counts}")
        print(
            f"  dropped {log.rows_dropped:,} · repaired {log.rows_repaired:,} · "
            f"excluded {log.rows('excluded'):,} rows"
        )
        for entry in log.entries:
            examples = f" e.g. {', '.join(entry.example_ids)}" if entry.example_ids else ""
            print(f"  - {entry.table}: {entry.rule}: {entry.action} {entry.rows:,}{examples}")
        if data.missing_tables:
            print(f"  not provided: {', '.join(data.missing_tables)}")
    return status


def cmd_run(args: argparse.Namespace) -> int:
    from crmkit.core.periods import parse_period
    from crmkit.run.fleet import run_reports, stop_on_signals

    get_topics(args.notebook)  # an unknown name fails before any file is read
    period = parse_period(args.period, as_of=iso_day(args.as_of, what="--as-of"))
    with stop_on_signals():  # SIGINT, SIGTERM, SIGHUP: workers stopped, no partial files left
        result = run_reports(
            period,
            params_dir=Path(args.params),
            notebooks_dir=Path(args.notebooks) if args.notebooks else None,
            out=Path(args.out),
            units=args.unit,
            notebooks=args.notebook,
            as_of=args.as_of or "",
            workers=args.jobs,
            cell_timeout=args.cell_timeout,
            run_timeout=args.run_timeout,
            progress=not args.no_progress,
            cluster=args.cluster or "",
            staging=args.snapshots,
            index=not args.no_index,
        )
    ok = len(result.outcomes) - len(result.failed)
    where = f"portfolio: {result.index}" if result.index else "index pages not written (--no-index)"
    print(f"{ok} of {len(result.outcomes)} runs succeeded in {result.seconds:.1f} s; {where}")
    for outcome in result.failed:
        print(f"✗ {outcome.business_unit}/{outcome.notebook}: {outcome.reason}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_index(args: argparse.Namespace) -> int:
    from crmkit.core.periods import parse_period
    from crmkit.run.fleet import write_indexes
    from crmkit.run.params import unit_files

    period = parse_period(args.period, as_of=iso_day(args.as_of, what="--as-of"))
    unit_files(Path(args.params))  # the units' languages and names come from there
    if not (Path(args.out) / period.label).is_dir():
        print(f"crmkit: no reports for {period.label} in {args.out}/.", file=sys.stderr)
        return 2
    page = write_indexes(Path(args.out), period, params_dir=Path(args.params))
    print(f"portfolio: {page}")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from crmkit.core.periods import parse_period
    from crmkit.load.snapshot import SNAPSHOT_DIR, stage
    from crmkit.run.execute import job_parameters
    from crmkit.run.plan import plan_jobs

    period = parse_period(args.period, as_of=iso_day(args.as_of, what="--as-of"))
    jobs = plan_jobs(
        period,
        params_dir=Path(args.params),
        out=Path(args.out),
        units=args.unit,
        notebooks=["data_quality"],  # one job per unit
        as_of=args.as_of or "",
    )
    status = 0
    for job in jobs:
        folder = Path(job.out_dir) / SNAPSHOT_DIR
        reason = stage(job_parameters(job), folder, threads=args.threads or os.cpu_count() or 1)
        if reason:
            print(f"✗ {job.params['business_unit']}: {reason}")
            status = 1
        else:
            print(f"✓ {job.params['business_unit']}: {folder}")
    return status


def cmd_init(args: argparse.Namespace) -> int:
    from crmkit.run.init import write_project

    folder = Path(args.dir)
    written = write_project(folder, unit=args.unit, notebooks=args.notebooks)
    print(f"Wrote a starter project in {folder}/:")
    for path in written:
        print(f"  {path}")
    unit_file = folder / "parameters" / f"{args.unit}.yaml"
    run = f"crmkit run --params {folder / 'parameters'} --out {folder / 'reports'}"
    if args.notebooks:
        run += f" --notebooks {folder / 'notebooks'}"
    print(
        f"Next: put your data files in {folder / 'data'}/ (names in its README.md), set "
        f"business_unit and currency in {unit_file}, then check the data with\n"
        f"  crmkit validate --params {unit_file}\n"
        f"and make the reports with\n"
        f"  {run} --period last-quarter"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="CRM metrics per business unit and period, as offline HTML."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="write a starter project: a unit's parameters, data/")
    init.add_argument("dir", help="project folder to write (may exist; no file is overwritten)")
    init.add_argument(
        "--unit", default="my_unit", help="the unit's id and file name (default: %(default)s)"
    )
    init.add_argument(
        "--notebooks",
        action="store_true",
        help="also copy the notebooks into DIR/notebooks, to customise",
    )
    init.set_defaults(func=cmd_init)

    sample = sub.add_parser("sample", help="write the sample data set")
    sample.add_argument(
        "--out", default="sample_data", help="folder to write (default: %(default)s)"
    )
    sample.add_argument(
        "--customers",
        type=int,
        default=None,
        help="customers per unit; from 10,000 drawn by the vectorised generator with ~10 "
        "orders each (default: the committed sample's sizes)",
    )
    sample.add_argument(
        "--units",
        type=int,
        default=4,
        help="write the first N units of the plan, north first (default: %(default)s)",
    )
    sample.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="file format of the tables (default: %(default)s)",
    )
    sample.add_argument("--seed", type=int, default=2026, help="random seed (default: %(default)s)")
    sample.set_defaults(func=cmd_sample)

    validate = sub.add_parser("validate", help="check units' data against the contract")
    validate.add_argument("--params", help="one unit's YAML (default: every unit in --params-dir)")
    validate.add_argument("--params-dir", default="parameters", help="default: %(default)s")
    validate.add_argument("--period", default="last-quarter", help="default: %(default)s")
    validate.add_argument("--as-of", help=AS_OF_HELP)
    validate.set_defaults(func=cmd_validate)

    run = sub.add_parser("run", help="run every notebook for every unit and render reports")
    run.add_argument(
        "--period",
        default="last-quarter",
        help="2026-Q3, 2026-09, 2026, last-quarter or last-month (default: %(default)s)",
    )
    run.add_argument("--as-of", help=AS_OF_HELP)
    run.add_argument("--unit", action="append", help="run only this unit (repeatable)")
    run.add_argument(
        "--notebook",
        action="append",
        metavar="NAME",
        help=f"run only this notebook (repeatable): {', '.join(topic_names())}",
    )
    run.add_argument(
        "--params", default="parameters", help="parameters folder (default: %(default)s)"
    )
    run.add_argument(
        "--notebooks",
        metavar="DIR",
        help="customised copies of the notebooks (default: the notebooks installed with crmkit)",
    )
    run.add_argument("--out", default="reports", help="output folder (default: %(default)s)")
    run.add_argument("--jobs", type=int, default=None, help="parallel runs (default: CPU cores)")
    run.add_argument(
        "--cell-timeout",
        type=int,
        default=CELL_TIMEOUT,
        help="seconds per cell (default: %(default)s)",
    )
    run.add_argument(
        "--run-timeout",
        type=int,
        default=RUN_TIMEOUT,
        help="seconds per notebook run (default: %(default)s)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
        "workers need crmkit and the same paths (default: worker processes here)",
    )
    run.add_argument(
        "--snapshots",
        choices=("stage", "staged", "remove", "none"),
        default="stage",
        help="stage: load each unit once into <out>/<period>/<unit>/snapshot/, read by its "
        "notebooks and kept as the audit trail; staged: read the snapshots `crmkit stage` "
        "wrote; remove: stage, then remove them; none: each notebook loads the source "
        "(default: %(default)s)",
    )
    run.add_argument(
        "--no-index",
        action="store_true",
        help="leave the index pages and shared flags to `crmkit index` (one job per task)",
    )
    run.set_defaults(func=cmd_run)

    stage = sub.add_parser(
        "stage", help="load units once into snapshots for `crmkit run --snapshots staged`"
    )
    stage.add_argument("--period", default="last-quarter", help="default: %(default)s")
    stage.add_argument("--as-of", help=AS_OF_HELP)
    stage.add_argument("--unit", action="append", help="stage only this unit (repeatable)")
    stage.add_argument("--params", default="parameters", help="default: %(default)s")
    stage.add_argument("--out", default="reports", help="default: %(default)s")
    stage.add_argument(
        "--threads",
        type=int,
        default=0,
        help="tables cleaned and written at a time (default: the machine's cores)",
    )
    stage.set_defaults(func=cmd_stage)

    index = sub.add_parser(
        "index", help="write a period's portfolio page from its reports (after --no-index runs)"
    )
    index.add_argument("--period", default="last-quarter", help="default: %(default)s")
    index.add_argument("--as-of", help=AS_OF_HELP)
    index.add_argument("--params", default="parameters", help="default: %(default)s")
    index.add_argument("--out", default="reports", help="default: %(default)s")
    index.set_defaults(func=cmd_index)
    return parser


def main(argv: list[str] | None = None) -> int:
    skip_slow_optional_imports()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CrmkitError as exc:
        print(f"crmkit: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C; crmkit run's Interrupted says more
        print(f"crmkit: {str(exc) or 'interrupted.'}", file=sys.stderr)
        return getattr(exc, "exit_status", 130)
    except BrokenPipeError:  # `crmkit validate | head`: the reader has what it wanted
        # Python flushes stdout again at exit; pointed at /dev/null that flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a process ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
