"""The ``crmkit`` command: ``sample``, ``validate`` and ``run``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from crmkit.core.errors import CrmkitError, ParameterError


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"--as-of must be an ISO date (YYYY-MM-DD); got {value!r}.") from None


def cmd_sample(args: argparse.Namespace) -> int:
    from crmkit.run.sample import write_sample

    written = write_sample(Path(args.out), seed=args.seed, customers=args.customers)
    print(f"Wrote {len(written)} files to {args.out}/ (seed {args.seed}).")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from crmkit.core.periods import parse_period
    from crmkit.load.unit import load_unit
    from crmkit.run.params import load_params, unit_files

    files = [Path(args.params)] if args.params else unit_files(Path(args.params_dir))
    period = parse_period(args.period, as_of=_as_of(args.as_of))
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
    from crmkit.run.report import run_reports

    period = parse_period(args.period, as_of=_as_of(args.as_of))
    params_dir = Path(args.params)
    notebooks_dir = (
        Path(args.notebooks) if args.notebooks else params_dir.resolve().parent / "notebooks"
    )
    result = run_reports(
        period,
        params_dir=params_dir,
        notebooks_dir=notebooks_dir,
        out=Path(args.out),
        units=args.unit,
        notebooks=args.notebook,
        workers=args.jobs,
        cell_timeout=args.cell_timeout,
        run_timeout=args.run_timeout,
        progress=not args.no_progress,
    )
    ok = len(result.outcomes) - len(result.failed)
    print(
        f"{ok} of {len(result.outcomes)} runs succeeded in {result.seconds:.1f} s; "
        f"portfolio: {result.index}"
    )
    for outcome in result.failed:
        print(f"✗ {outcome.business_unit}/{outcome.notebook}: {outcome.reason}", file=sys.stderr)
    return 1 if result.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="CRM metrics per business unit and period, as offline HTML."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="write the sample data set")
    sample.add_argument(
        "--out", default="sample_data", help="folder to write (default: %(default)s)"
    )
    sample.add_argument(
        "--customers",
        type=int,
        default=None,
        help="customers per unit (default: the committed sample's sizes)",
    )
    sample.add_argument("--seed", type=int, default=2026, help="random seed (default: %(default)s)")
    sample.set_defaults(func=cmd_sample)

    validate = sub.add_parser("validate", help="check units' data against the contract")
    validate.add_argument("--params", help="one unit's YAML (default: every unit in --params-dir)")
    validate.add_argument("--params-dir", default="parameters", help="default: %(default)s")
    validate.add_argument("--period", default="last-quarter", help="default: %(default)s")
    validate.add_argument("--as-of", help="day relative periods count from (default: today)")
    validate.set_defaults(func=cmd_validate)

    run = sub.add_parser("run", help="run every notebook for every unit and render reports")
    run.add_argument(
        "--period",
        default="last-quarter",
        help="2026-Q3, 2026-09, 2026, last-quarter or last-month (default: %(default)s)",
    )
    run.add_argument("--as-of", help="day relative periods count from (default: today)")
    run.add_argument("--unit", action="append", help="run only this unit (repeatable)")
    run.add_argument("--notebook", action="append", help="run only this notebook (repeatable)")
    run.add_argument(
        "--params", default="parameters", help="parameters folder (default: %(default)s)"
    )
    run.add_argument("--notebooks", help="notebooks folder (default: beside the parameters folder)")
    run.add_argument("--out", default="reports", help="output folder (default: %(default)s)")
    run.add_argument("--jobs", type=int, default=None, help="parallel runs (default: CPU cores)")
    run.add_argument(
        "--cell-timeout", type=int, default=600, help="seconds per cell (default: %(default)s)"
    )
    run.add_argument(
        "--run-timeout",
        type=int,
        default=1800,
        help="seconds per notebook run (default: %(default)s)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from crmkit.run.worker import skip_slow_optional_imports

    skip_slow_optional_imports()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CrmkitError as exc:
        print(f"crmkit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
