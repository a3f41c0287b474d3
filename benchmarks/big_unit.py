"""One big unit through every notebook: wall time, peak memory of the whole process tree, and
how time grows with the unit's size.

    python benchmarks/big_unit.py [--customers 10000 100000 1000000] [--jobs 2] [--keep DIR]

For each size, writes one unit with ``crmkit sample --customers N --units 1 --format parquet``
(unless DIR/<N> exists already), then measures:

- ``crmkit stage``: loading, checking and cleaning the unit once (target at 1M: ≤ 30 s);
- ``crmkit run`` over every notebook with ``--jobs`` workers, staging included: wall time and
  the peak of the summed resident memory of ``crmkit run`` and all its descendants (workers
  and kernels), sampled every 0.2 s (targets at 1M customers / ~10M orders: ≤ 180 s, ≤ 6 GB);
- each notebook's own seconds and its kernel's peak memory (from its run record), and the
  growth exponent between sizes,
  log(t_big / t_small) / log(N_big / N_small) (target: ≤ 1.1 for every notebook).

Targets are issue #15's, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

CRMKIT = [sys.executable, "-m", "crmkit.run.cli"]


def tree_peak_rss(process: psutil.Process, stop: threading.Event, peak: list) -> None:
    """Sample the summed RSS of ``process`` and its descendants until ``stop`` is set;
    ``peak`` gets the largest sum, the GB of each member by role at that moment, and the
    largest summed PSS.

    The RSS sum is the figure the target is set on. It counts a page shared by several
    processes in each of them: the libraries a worker and the kernel it forked share are
    counted twice. PSS (proportional set size) splits each shared page among its sharers,
    so its sum is the memory the tree takes from the machine.
    """
    for sample in itertools.count():
        if stop.is_set():
            return
        try:
            members = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total, parts = 0, []
        for member in members:
            with contextlib.suppress(psutil.Error):
                rss = member.memory_info().rss
                total += rss
                parts.append((_role(member), rss))
        if total > peak[0]:
            peak[0] = total
            peak[1] = sorted(parts, key=lambda part: -part[1])
        if sample % 5 == 0 or total >= 0.95 * peak[0]:  # PSS walks the page tables: not often
            peak[2] = max(peak[2], sum(_pss(member) for member in members))
        stop.wait(0.2)


def _pss(member: psutil.Process) -> int:
    with contextlib.suppress(psutil.Error):
        memory = member.memory_full_info()
        return getattr(memory, "pss", memory.rss)
    return 0


def _role(member: psutil.Process) -> str:
    """A process of the tree named by what it runs: a kernel (a kernel leads a session of its
    own; a forked one keeps its worker's command line), a worker, or crmkit itself."""
    with contextlib.suppress(psutil.Error, OSError):
        command = " ".join(member.cmdline())
        if "ipykernel" in command or os.getsid(member.pid) == member.pid:
            return "kernel"
        if "crmkit.run.cli" in command:
            return "crmkit"
        return "worker"
    return "gone"


def measured(argv: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak process-tree RSS (bytes) and stdout of one crmkit command; the
    members' share of the peak and the peak PSS are added to the output's last line."""
    started = time.perf_counter()
    process = psutil.Popen([*CRMKIT, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stop, peak = threading.Event(), [0, [], 0]
    sampler = threading.Thread(target=tree_peak_rss, args=(process, stop, peak), daemon=True)
    sampler.start()
    output = process.communicate()[0].decode("utf-8", "replace")
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode not in (0,):
        raise SystemExit(f"crmkit {' '.join(argv)} failed:\n{output[-3000:]}")
    shares = ", ".join(f"{role} {rss / 1e9:.1f}" for role, rss in peak[1])
    return seconds, peak[0], output + f"\nat the peak (GB): {shares}; PSS peak {peak[2] / 1e9:.2f}"


def unit_params(folder: Path, data: Path) -> Path:
    params = folder / "parameters"
    params.mkdir(parents=True, exist_ok=True)
    (params / "north.yaml").write_text(
        f"business_unit: north\ndisplay_name: North\ncurrency: USD\ndata_source: {data}\n",
        encoding="utf-8",
    )
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="folder for the generated units (reused)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="crmkit-big-"))
    where = ["--period", "2026-Q3", "--as-of", "2026-12-01"]
    per_notebook: dict[int, dict[str, float]] = {}
    for customers in args.customers:
        data = base / f"{customers}"
        if not (data / "customers.parquet").exists():
            seconds, rss, _ = measured(
                [
                    "sample",
                    "--customers",
                    str(customers),
                    "--units",
                    "1",
                    "--format",
                    "parquet",
                    "--out",
                    str(data),
                ]
            )
            print(f"{customers:>9,} customers: generated in {seconds:.0f} s, {rss / 1e9:.1f} GB")
        work = Path(tempfile.mkdtemp(prefix=f"crmkit-big-{customers}-"))
        params = unit_params(work, data)
        common = [*where, "--params", str(params), "--out", str(work / "reports")]
        stage_s, stage_rss, _ = measured(["stage", *common])
        run_s, run_rss, run_out = measured(
            ["run", *common, "--jobs", str(args.jobs), "--no-progress"]
        )
        records = sorted((work / "reports" / "2026-Q3" / "north").glob("*.json"))
        runs = [json.loads(p.read_text("utf-8")) for p in records]
        seconds = {r["notebook"]: r["seconds"] for r in runs}
        kernel_gb = {r["notebook"]: (r.get("kernel_peak_mb") or 0) * 2**20 / 1e9 for r in runs}
        failed = [r["notebook"] for r in runs if r["status"] != "ok"]
        per_notebook[customers] = seconds
        print(
            f"{customers:>9,} customers: stage {stage_s:6.1f} s ({stage_rss / 1e9:.1f} GB) · "
            f"all notebooks {run_s:6.1f} s wall, peak {run_rss / 1e9:.2f} GB for the process "
            f"tree" + (f" · FAILED: {failed}" if failed else "")
        )
        print("           " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
        print(
            "           kernel peaks (GB): "
            + ", ".join(f"{k} {v:.2f}" for k, v in kernel_gb.items())
        )
        print("           " + run_out.splitlines()[-1])
    sizes = sorted(per_notebook)
    for small, big in itertools.pairwise(sizes):
        exponents = {
            name: math.log(per_notebook[big][name] / per_notebook[small][name])
            / math.log(big / small)
            for name in per_notebook[big]
            if name in per_notebook[small]
        }
        print(
            f"growth exponent {small:,} → {big:,}: "
            + ", ".join(f"{k} {v:.2f}" for k, v in exponents.items())
        )


if __name__ == "__main__":
    main()
