"""Benchmark: generate sandbox markets of growing size; print wall time and peak memory.

Each size runs in a fresh child process so its peak RSS is its own. Target (issue 2): at
1M companies x 24 months, at most 10 minutes and 8 GiB on a 2-core machine.

    python benchmarks/bench_sandbox_generate.py --sizes 100000,1000000 --months 24
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from propensity.lake import Lake
from propensity.settings import SandboxSettings
from sandbox.market import generate_market
n, months, root = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
s = generate_market(Lake(root), SandboxSettings(companies=n, months=months, seed=42))
dt = time.perf_counter() - t0
print(json.dumps({"companies": n, "months": months, "seconds": dt,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "rows": s.rows}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--keep", type=Path, default=None, help="write the lake here and keep it")
    args = ap.parse_args()
    results = []
    for n in [int(x) for x in args.sizes.split(",")]:
        root = Path(args.keep) / f"n{n}" if args.keep else Path(tempfile.mkdtemp(prefix="bench-gen-"))
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.months), str(root)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        r["lake_gib"] = size / 2**30
        results.append(r)
        print(f"companies: {n:>9,}  months: {args.months}  time_s: {r['seconds']:.1f}  "
              f"peak_rss_gib: {r['peak_rss_gib']:.2f}  lake_gib: {r['lake_gib']:.2f}  "
              f"rows: {r['rows']}", flush=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"scaling: {b['companies'] / a['companies']:.0f}x companies -> "
              f"{b['seconds'] / a['seconds']:.1f}x time, "
              f"{b['peak_rss_gib'] / a['peak_rss_gib']:.1f}x peak memory")
    target = [r for r in results if r["companies"] >= 1_000_000]
    for r in target:
        ok = r["seconds"] <= 600 and r["peak_rss_gib"] <= 8
        print(f"target (<= 600 s, <= 8 GiB at 1M): {'met' if ok else 'MISSED'} "
              f"({r['seconds']:.0f} s, {r['peak_rss_gib']:.2f} GiB)")


if __name__ == "__main__":
    main()
