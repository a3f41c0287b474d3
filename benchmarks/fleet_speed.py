"""Fleet wall time: loading each unit once and one thread per kernel, against the path before,
and a Dask LocalCluster against the local pool. Each comparison runs both sides in this run.

    python benchmarks/fleet_speed.py sample  [--jobs 2] [--notebook N ...]
    python benchmarks/fleet_speed.py cluster [--units 100] [--rounds 2] [--notebook data_quality]

``sample``: the sample fleet (every unit × notebook) through the code as it was when issue
#15 was taken (``--before``, default the commit before its first change: every notebook loads
its unit, fits its own CLV, kernels with the machine's default OpenMP/BLAS threads), checked
out into a temporary folder and run from there, and through this checkout. The same
parameters and sample data for both. Target: now ≤ 0.5 × before. ``--emulate`` compares with
this checkout's own ``--snapshots none`` and default threads instead (what staging and the
thread limit alone bring, with every other #15 change on both sides).

``cluster``: N small units (the sample's north unit at its smallest size, copied under N ids)
through the local pool of 2 workers and a ``distributed.LocalCluster`` of 2 process workers
with one thread each, run as pool, cluster, cluster, pool (``--rounds 1``: pool, cluster),
each cluster new. Target: cluster ≤ 1.0 × pool (no overhead worth a user's notice).

Each side is a separate ``crmkit run`` process, as a scheduler starts it: environment
variables (the thread counts) reach its workers and kernels as they would in production.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CRMKIT = [sys.executable, "-m", "crmkit.run.cli"]
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


BEFORE_15 = "0688564"
"""The last commit before issue #15's first change (d663cc2, loading each unit once)."""


def crmkit_run(argv: list[str], *, env: dict | None = None, code: Path | None = None) -> float:
    """Wall seconds of one `crmkit run` process (thread variables as in ``env`` only), of the
    crmkit in ``code`` if given (run from there, and first on its kernels' path); fails
    loudly if any run failed."""
    started = time.perf_counter()
    environment = {**{k: v for k, v in os.environ.items() if k not in THREADS}, **(env or {})}
    if code is not None:
        environment["PYTHONPATH"] = str(code)
    done = subprocess.run(
        [*CRMKIT, "run", "--no-progress", *argv],
        env=environment,
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crmkit run failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def sample(args: argparse.Namespace, work: Path) -> None:
    common = ["--period", "2026-Q3", "--params", str(ROOT / "parameters")]
    common += ["--jobs", str(args.jobs)] + [f"--notebook={n}" for n in args.notebook or []]
    # before: every library's default, a thread per core in every kernel
    cores = {name: str(os.cpu_count()) for name in THREADS}
    if args.emulate:
        label = "this code, each notebook loads, default threads"
        before_argv, code = ["--snapshots", "none"], None
    else:
        label = f"the code at {args.before}, before #15"
        before_argv, code = [], checkout(args.before, work / "before-code")
    before = crmkit_run(
        [*common, "--out", str(work / "before"), *before_argv], env=cores, code=code
    )
    now = crmkit_run([*common, "--out", str(work / "now")])
    tolerance = 1e-9 if args.emulate else 1e-8
    same = _same_results(work / "before" / "2026-Q3", work / "now" / "2026-Q3", tolerance)
    print(f"sample fleet, {args.jobs} workers")
    print(f"before ({label}): {before:7.1f} s")
    print(
        f"now (staged once, {os.cpu_count() // args.jobs or 1} thread(s) per kernel): {now:7.1f} s"
    )
    print(f"ratio now/before: {now / before:.2f} (target ≤ 0.50); same results: {same}")


def checkout(revision: str, folder: Path) -> Path:
    """This repository's files at ``revision`` in ``folder`` (``git archive``)."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _same_results(left: Path, right: Path, tolerance: float = 1e-9) -> str:
    """ "yes", or where the two runs' results differ; numbers count as equal within a relative
    ``tolerance``: 1e-9 by default (kernels with other thread counts sum in another order: the
    last bits differ), 1e-8 against the code before #15, whose CLV fit on every customer
    rather than on distinct histories differs in the ninth digit."""

    def results(folder: Path) -> dict:
        return {
            str(p.relative_to(folder)): json.loads(p.read_text("utf-8"))["results"]
            for p in folder.glob("*/*.json")
        }

    def differences(a, b, where: str) -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(set(a) | set(b))
            return [d for k in keys for d in differences(a.get(k), b.get(k), f"{where}.{k}")]
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            pairs = zip(a, b, strict=True)
            return [d for k, (x, y) in enumerate(pairs) for d in differences(x, y, f"{where}[{k}]")]
        if isinstance(a, float) and isinstance(b, float):
            if math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-12):
                return []
            return [f"{where} ({abs(a - b) / max(abs(a), abs(b)):.1e} apart)"]
        return [] if a == b else [where]

    found = differences(results(left), results(right), "")
    if not found:
        return f"yes (within {tolerance:.0e})"
    return f"no, {len(found)} values differ: {found[:5]}"


def small_units(work: Path, count: int) -> Path:
    """A parameters folder of ``count`` units, each the smallest sample's north unit under an
    id of its own (ids prefixed, so no two units share a customer), each in a Parquet folder
    of its own: a source holding every unit makes each unit's load read all units' distinct
    values (the fleet-wide evidence, see the #15 note), which is not what this compares."""
    data = work / "data"
    subprocess.run(
        [*CRMKIT, "sample", "--out", str(work / "small"), "--customers", "60"],
        check=True,
        capture_output=True,
    )
    params = work / "parameters"
    params.mkdir()
    for k in range(count):
        (data / f"u{k:03d}").mkdir(parents=True)
    for path in (work / "small").glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "business_unit" in frame.columns:
            frame = frame[frame["business_unit"] == "north"]
        for k in range(count):
            copy = frame.copy()
            for column in copy.columns:
                if column.endswith("_id") and column != "business_unit":
                    copy[column] = copy[column].where(
                        copy[column] == "", f"U{k:03d}" + copy[column]
                    )
            if "business_unit" in copy.columns:
                copy["business_unit"] = f"u{k:03d}"
            copy.to_parquet(data / f"u{k:03d}" / f"{path.stem}.parquet", index=False)
    for k in range(count):
        (params / f"u{k:03d}.yaml").write_text(
            f"business_unit: u{k:03d}\ncurrency: USD\ndata_source: {data / f'u{k:03d}'}\n",
            encoding="utf-8",
        )
    return params


def cluster(args: argparse.Namespace, work: Path) -> None:
    from distributed import LocalCluster

    params = small_units(work, args.units)
    common = ["--period", "2026-Q3", "--params", str(params), "--as-of", "2026-10-15"]
    common += [f"--notebook={n}" for n in args.notebook or ["data_quality"]]
    # pool, cluster, then cluster, pool: the machine's speed drifts within minutes
    order = ["pool", "cluster", "cluster", "pool"] if args.rounds == 2 else ["pool", "cluster"]
    seconds: dict[str, list[float]] = {"pool": [], "cluster": []}
    for k, side in enumerate(order):
        out = ["--out", str(work / f"{side}{k}")]
        if side == "pool":
            seconds[side].append(crmkit_run([*common, *out, "--jobs", "2"]))
            continue
        with LocalCluster(  # a new cluster each time: its workers start their job servers
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local:
            seconds[side].append(crmkit_run([*common, *out, "--cluster", local.scheduler_address]))
    same = _same_results(work / "pool0" / "2026-Q3", work / "cluster1" / "2026-Q3")
    pool, on_cluster = sum(seconds["pool"]), sum(seconds["cluster"])
    print(f"{args.units} small units × {len(args.notebook or ['data_quality'])} notebook(s)")
    print(f"runs in the order {', '.join(order)}")
    print(f"local pool, 2 workers:               {_listed(seconds['pool'])} s")
    print(f"LocalCluster, 2 process workers:     {_listed(seconds['cluster'])} s")
    print(f"ratio cluster/pool: {on_cluster / pool:.2f} (target ≤ 1.0); same results: {same}")


def _listed(values: list[float]) -> str:
    return " + ".join(f"{v:.1f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("sample", "cluster"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        choices=(1, 2),
        help="cluster: 2 runs each side, as pool, cluster, cluster, pool",
    )
    parser.add_argument("--notebook", action="append")
    parser.add_argument("--before", default=BEFORE_15, help="sample: the code to compare with")
    parser.add_argument(
        "--emulate", action="store_true", help="sample: before is this code's --snapshots none"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crmkit-fleet-"))
    try:
        (sample if args.what == "sample" else cluster)(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
