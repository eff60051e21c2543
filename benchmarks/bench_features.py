"""Benchmark: features for one month on DuckDB at growing sizes; print time and peak memory.

For each size it makes (or reuses, with --work) a sandbox market with 24 months of history and a
bulk signals table written directly (no crawl; sandbox.signals.bulk_signals): 24 monthly crawls,
each carrying the signals published in the month before it and, again, those of the --repeats
crawls before it, ``--signals-per-company`` rows per company in all (50 -> 50M rows at 1M
companies). It then builds features (and labels) for the month two before the end of history,
which reads every crawl, in a fresh child process so the peak RSS is the build's own.

Target (issue: features): at 1M companies and >= 50M signal rows, at most 5 minutes and 8 GiB.

    python benchmarks/bench_features.py --sizes 100000,300000,1000000 --work /tmp/bench-features
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_GIB = 300, 8

GENERATE = r"""
import sys
from propensity.lake import Lake
from propensity.settings import SandboxSettings
from sandbox.market import generate_market
n, months, root = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
generate_market(Lake(root), SandboxSettings(companies=n, months=months, seed=42))
"""

SIGNALS = r"""
import sys
from propensity.lake import Lake
from propensity.months import add_months
from sandbox.signals import write_bulk_signals
root, month, crawls, rows, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
months = [add_months(month, -i) for i in range(crawls - 1, -1, -1)]
print(write_bulk_signals(Lake(root), months, rows, repeats=repeats, seed=7))
"""

BUILD = r"""
import json, resource, sys, time
from features import build_features
root, month, memory = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
r = build_features(root, month, "duckdb", engine_options={"memory_limit": memory})
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rows": r.rows, "columns": r.columns,
                  "labels": r.labels_written, "signals_used": r.signals_used,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def _child(code: str, *args: object) -> str:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"child failed: {code.splitlines()[1:3]}")
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def prepare(root: Path, n: int, months: int, rows: int, repeats: int) -> tuple[str, int]:
    """Market and bulk signals in ``root`` (reused when already there); the build month."""
    from propensity.lake import Lake
    from propensity.months import add_months
    from propensity.settings import SandboxSettings

    end = SandboxSettings().end_month
    month = add_months(end, -2)
    lake = Lake(root)
    marker = root / "bench-market.json"
    spec = {"companies": n, "months": months, "seed": 42, "end_month": end}
    if not marker.exists() or json.loads(marker.read_text()) != spec:
        shutil.rmtree(root, ignore_errors=True)
        t0 = time.perf_counter()
        _child(GENERATE, n, months, root)
        marker.write_text(json.dumps(spec))
        print(f"  (setup) market of {n:,} companies x {months} months in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    sig_marker = root / "bench-signals.json"
    sig_spec = {"rows": rows, "repeats": repeats, "crawls": months, "month": month}
    if not sig_marker.exists() or json.loads(sig_marker.read_text()) != sig_spec:
        shutil.rmtree(root / "signals", ignore_errors=True)
        t0 = time.perf_counter()
        _child(SIGNALS, root, month, months, rows, repeats)
        sig_marker.write_text(json.dumps(sig_spec))
        print(f"  (setup) {rows:,} bulk signal rows in {time.perf_counter() - t0:.0f} s",
              flush=True)
    total = sum(lake.read("signals", month=m, columns=["signal_id"]).num_rows
                for m in lake.months("signals") if m <= month)
    return month, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--months", type=int, default=24, help="months of history (and crawls)")
    ap.add_argument("--signals-per-company", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5,
                    help="earlier crawls whose signals each crawl repeats")
    ap.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep the markets here and reuse them on the next run")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-features-"))
    sizes = [int(x) for x in args.sizes.split(",")]
    # every market first, so the timed builds run back to back
    prepared = {n: prepare(work / f"n{n}", n, args.months, n * args.signals_per_company,
                           args.repeats) for n in sizes}
    results = []
    for n in sizes:
        root = work / f"n{n}"
        month, signal_rows = prepared[n]
        for out in ("features", "labels", "quarantine"):
            shutil.rmtree(root / out, ignore_errors=True)
        r = json.loads(_child(BUILD, root, month, args.memory_limit))
        r.update(companies=n, signal_rows=signal_rows)
        results.append(r)
        print(f"companies: {n:>9,}  signal rows: {signal_rows:>11,}  "
              f"unique signals: {r['signals_used']:>11,}  month: {month}  "
              f"time_s: {r['seconds']:.1f}  peak_rss_gib: {r['peak_rss_gib']:.2f}  "
              f"features: {r['rows']:,} x {r['columns']}  labels: {r['labels']}", flush=True)
        if args.work is None:
            shutil.rmtree(root, ignore_errors=True)
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"scaling: {b['companies'] / a['companies']:.0f}x companies -> "
              f"{b['seconds'] / a['seconds']:.1f}x time, "
              f"{b['peak_rss_gib'] / a['peak_rss_gib']:.1f}x peak memory")
    for r in results:
        if r["companies"] >= 1_000_000:
            ok = (r["seconds"] <= TARGET_SECONDS and r["peak_rss_gib"] <= TARGET_GIB
                  and r["signal_rows"] >= 50e6)
            print(f"target (<= 300 s, <= 8 GiB at 1M companies, >= 50M signal rows): "
                  f"{'met' if ok else 'MISSED'} ({r['seconds']:.0f} s, "
                  f"{r['peak_rss_gib']:.2f} GiB, {r['signal_rows']:,} rows)")


if __name__ == "__main__":
    main()
