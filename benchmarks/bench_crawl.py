"""Crawl speed and memory: our crawl of the sandbox web vs ``scrapy bench``, in one run.

1. ``scrapy bench`` (Scrapy's own benchmark: a local server and a link-following spider with
   no processing) runs for ``--bench-seconds``; its "Crawled N pages (at X pages/min)" log
   lines give its pages per second.
2. The sandbox web of ``--lake`` is served (``python -m sandbox.web``) and crawled with
   ``python -m crawlers crawl`` - every spider, robots.txt, retries, HTTP cache, extraction,
   entity resolution, validation, dedupe and storage on - into a scratch lake, with
   politeness delays relaxed for throughput (many domains in parallel keep per-domain
   concurrency low): DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=0, CONCURRENT_REQUESTS=128,
   CONCURRENT_REQUESTS_PER_DOMAIN=2, one process like scrapy bench (``--crawl-settings`` to
   change).
3. The crawler's resident memory is sampled every half second; progress is the number of
   pages in its HTTP cache. Peak RSS and RSS at 10/25/50/75/90/100% of the pages are
   printed.

Output is plain ``name: value`` lines. A market large enough for ~100k pages is the default
5,000-company market (about 19 requests per company)::

    python benchmarks/bench_crawl.py --lake /tmp/benchlake --companies 5000

If ``--lake`` holds no market, one is generated with ``--companies`` and ``--months``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
RELAXED = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "CONCURRENT_REQUESTS": "128",
           "CONCURRENT_REQUESTS_PER_DOMAIN": "2", "RETRY_BACKOFF_BASE": "0.1",
           "LOGSTATS_INTERVAL": "10",
           # one process, like scrapy bench (a real crawl uses one per core: CRAWL_PROCESSES)
           "CRAWL_PROCESSES": "1"}
_CRAWLED = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrapy_bench(seconds: float) -> dict[str, float]:
    """Run ``scrapy bench`` and read its log lines."""
    with tempfile.TemporaryDirectory() as tmp:  # outside any Scrapy project
        p = subprocess.run([sys.executable, "-m", "scrapy", "bench",
                            "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOGSTATS_INTERVAL=1",
                            "-s", "LOG_LEVEL=INFO"],
                           cwd=tmp, capture_output=True, text=True, timeout=seconds + 120)
    log = p.stdout + p.stderr
    lines = [(int(n), int(rate)) for n, rate in _CRAWLED.findall(log)]
    rates = [rate / 60 for n, rate in lines if n > 0]
    steady = rates[1:] or rates  # the first interval includes start-up
    m = re.search(r"'response_received_count': (\d+)", log)
    e = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    overall = int(m.group(1)) / float(e.group(1)) if m and e else float("nan")
    return {"pages_per_second": statistics.mean(steady) if steady else float("nan"),
            "pages_per_second_overall": overall, "pages": lines[-1][0] if lines else 0}


def ensure_market(lake: Path, companies: int, months: int) -> str:
    """Generate a market into ``lake`` if it has none; return the month to serve."""
    from propensity.lake import Lake
    from propensity.months import add_months
    from propensity.settings import SandboxSettings
    from sandbox.market import generate_market, market_spec

    if not (lake / "raw" / "companies").exists():
        print(f"generating {companies} companies x {months} months into {lake}", flush=True)
        generate_market(Lake(lake), SandboxSettings(companies=companies, months=months))
    spec = market_spec(Lake(lake), SandboxSettings())
    return add_months(spec.end_month, 1)


def start_server(lake: Path, month: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.web", "--lake", str(lake),
                             "--month", month, "--port", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError("sandbox web did not come up")


class Sampler(threading.Thread):
    """Samples the crawler's RSS and its progress (pages in its HTTP cache)."""

    def __init__(self, pid: int, cache: Path) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.cache = cache
        self.samples: list[tuple[float, int, int]] = []  # (seconds, rss bytes, pages)
        self.stop = threading.Event()

    def pages(self) -> int:
        if not self.cache.exists():
            return 0
        try:
            con = sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True, timeout=1)
            try:
                return con.execute("SELECT count(*) FROM responses").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return self.samples[-1][2] if self.samples else 0

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop.is_set():
            try:  # the crawler and its worker processes, if any
                rss = self.proc.memory_info().rss
                for child in self.proc.children(recursive=True):
                    try:
                        rss += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                return
            self.samples.append((time.monotonic() - t0, rss, self.pages()))
            time.sleep(0.5)


def our_crawl(lake: Path, month: str, port: int, settings: dict[str, str]) -> dict:
    """Crawl the served web into a scratch lake; return throughput and memory figures."""
    work = Path(tempfile.mkdtemp(prefix="bench_crawl_"))
    try:
        for part in ("raw", "sandbox"):
            if (lake / part).exists():
                shutil.copytree(lake / part, work / part)
        cmd = [sys.executable, "-m", "crawlers", "crawl", "--month", month, "--lake", str(work),
               "--proxy", f"http://127.0.0.1:{port}"]
        for k, v in settings.items():
            cmd += ["-s", f"{k}={v}"]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "200"})
        sampler = Sampler(proc.pid, work / "crawl_state" / "httpcache.sqlite")
        sampler.start()
        rc = proc.wait()
        seconds = time.monotonic() - t0
        sampler.stop.set()
        sampler.join(5)
        if rc != 0:
            raise RuntimeError(f"crawl failed with exit code {rc}")
        summary = json.loads((work / "crawl_state" / "runs" / f"month={month}.json")
                             .read_text())
        wire = sum(int(st.get("wire/responses", 0)) for st in summary["stats"].values())
        parsed = summary["pages"]
        samples = sampler.samples
        total = max((p for _, _, p in samples), default=0)
        at = {}
        for q in (10, 25, 50, 75, 90, 100):
            target = total * q / 100
            hit = next((rss for _, rss, p in samples if p >= target), samples[-1][1])
            at[q] = hit / 2**20
        peak_i = max(range(len(samples)), key=lambda i: samples[i][1])
        return {"peak_at_pages": samples[peak_i][2], "peak_at_seconds": samples[peak_i][0],
                "seconds": seconds, "crawl_seconds": summary["seconds"], "wire_pages": wire,
                "parsed_pages": parsed, "signals": summary["published"],
                "pages_per_second": wire / summary["seconds"],
                "peak_rss_mb": max(r for _, r, _ in samples) / 2**20,
                "rss_mb_at": at, "cached_pages": total,
                "response_mb": summary["response_bytes"] / 1e6}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", type=Path, required=True, help="sandbox lake to serve and crawl")
    ap.add_argument("--companies", type=int, default=5000, help="market size if generated")
    ap.add_argument("--months", type=int, default=24, help="months of history if generated")
    ap.add_argument("--bench-seconds", type=float, default=30.0,
                    help="how long `scrapy bench` runs")
    ap.add_argument("--crawl-settings", default="",
                    help="extra Scrapy settings for our crawl, NAME=VALUE,NAME=VALUE")
    args = ap.parse_args()
    month = ensure_market(args.lake, args.companies, args.months)
    settings = dict(RELAXED)
    for kv in filter(None, args.crawl_settings.split(",")):
        k, v = kv.split("=", 1)
        settings[k] = v

    print("running scrapy bench ...", flush=True)
    bench = scrapy_bench(args.bench_seconds)
    port = free_port()
    server = start_server(args.lake, month, port)
    try:
        print(f"crawling the sandbox web of {args.lake} as of {month} ...", flush=True)
        ours = our_crawl(args.lake, month, port, settings)
    finally:
        server.terminate()
        server.wait(30)
    ratio = ours["pages_per_second"] / bench["pages_per_second"]
    print(f"cpu_count: {os.cpu_count()}")
    print(f"scrapy_bench_pages_per_second: {bench['pages_per_second']:.1f}")
    print(f"scrapy_bench_pages_per_second_overall: {bench['pages_per_second_overall']:.1f}")
    print(f"crawl_settings: {' '.join(f'{k}={v}' for k, v in settings.items())}")
    print(f"crawl_pages_on_wire: {ours['wire_pages']}")
    print(f"crawl_pages_parsed: {ours['parsed_pages']}")
    print(f"crawl_signals: {ours['signals']}")
    print(f"crawl_seconds: {ours['crawl_seconds']:.1f}")
    print(f"crawl_response_mb: {ours['response_mb']:.1f}")
    print(f"crawl_pages_per_second: {ours['pages_per_second']:.1f}")
    print(f"ratio_crawl_to_scrapy_bench: {ratio:.2f}")
    print(f"crawl_peak_rss_mb: {ours['peak_rss_mb']:.0f} (at {ours['peak_at_pages']} of "
          f"{ours['cached_pages']} pages, {ours['peak_at_seconds']:.0f}s)")
    for q, mb in ours["rss_mb_at"].items():
        print(f"crawl_rss_mb_at_{q}pct_pages: {mb:.0f}")


if __name__ == "__main__":
    main()
