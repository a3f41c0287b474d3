"""Speed and memory of loading and cleaning one unit (``crmkit.load.unit.load_unit``).

    python benchmarks/load_speed.py [FOLDER ...] [--unit north] [--period 2026-Q2]
                                    [--as-of 2026-11-30] [--code DIR]

Each folder (by default ``/tmp/big10k``, ``/tmp/big100k``, ``/tmp/big1m``, those that exist)
is loaded once, in a fresh process per folder so the peak resident memory (RSS) of one load
is measured alone. Printed per folder: customers and orders kept, wall seconds, CPU seconds
(user + system, all threads: on a shared machine the less disturbed figure) and peak RSS in
MB.
``--no-pushdown`` reads every unit's rows and filters in pandas. ``--code DIR`` runs the
``crmkit`` package found in DIR instead of this checkout (e.g. an export of the previous
commit, ``git archive HEAD crmkit | tar -x -C /tmp/base``), so a before/after pair is measured
on the same machine and data.

The issue's target (#15): one unit of 1M customers / 10M orders loaded and cleaned in ≤ 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_FOLDERS = ("/tmp/big10k", "/tmp/big100k", "/tmp/big1m")

_ONE_LOAD = """
import json, resource, sys, time
sys.path.insert(0, {code!r})
from crmkit.load.unit import load_unit
started = time.perf_counter()
data = load_unit(
    {unit!r}, data_source={folder!r}, period={period!r}, as_of={as_of!r}, **{options!r}
)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{
    "seconds": seconds,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "customers": len(data.tables["customers"]),
    "orders": len(data.tables["transactions"]),
    "log_entries": len(data.quality.entries),
}}))
"""


def measure(
    folder: str, *, unit: str, period: str, as_of: str, code: str, options: dict | None = None
) -> dict:
    """One load of ``folder`` in a fresh Python process: seconds, peak RSS and rows kept."""
    script = _ONE_LOAD.format(
        code=code, unit=unit, folder=folder, period=period, as_of=as_of, options=options or {}
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": code},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=list(DEFAULT_FOLDERS))
    parser.add_argument("--unit", default="north")
    parser.add_argument("--period", default="2026-Q2")
    parser.add_argument("--as-of", default="2026-11-30")
    parser.add_argument(
        "--code",
        default=str(Path(__file__).resolve().parents[1]),
        help="folder holding the crmkit package to measure (default: this checkout)",
    )
    parser.add_argument(
        "--no-pushdown",
        action="store_true",
        help="read every unit's rows and filter in pandas (load_unit(pushdown=False))",
    )
    args = parser.parse_args(argv)
    options = {"pushdown": False} if args.no_pushdown else {}
    folders = [f for f in args.folders if Path(f).is_dir()]
    if not folders:
        parser.error(f"none of {args.folders} exists; write one with `crmkit sample`")
    print(
        f"load_unit({args.unit!r}, period={args.period}, {options or 'pushdown'}) "
        f"with crmkit from {args.code}"
    )
    print(
        f"{'folder':<28}{'customers':>11}{'orders':>12}{'seconds':>10}{'CPU s':>8}{'peak MB':>10}"
    )
    for folder in folders:
        got = measure(folder, unit=args.unit, period=args.period, as_of=args.as_of, code=args.code)
        print(
            f"{folder:<28}{got['customers']:>11,}{got['orders']:>12,}"
            f"{got['seconds']:>10.1f}{got['cpu_seconds']:>8.1f}{got['peak_mb']:>10,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
