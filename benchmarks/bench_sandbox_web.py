"""Throughput of the synthetic web on loopback.

Starts the server in a subprocess (``python -m sandbox.web``) against a lake, reads every
company's sitemap through the proxy, then pulls pages with a concurrent aiohttp client
(through the proxy, like a crawler) for ``--seconds`` or ``--pages``, and prints plain lines:

    load_seconds: 1.8
    pages_per_second: 812.3
    bytes_per_second: 2.1e+07
    server_peak_rss_mb: 240.5

Every response counts as a page (200s, 404s, 500s and slow answers alike: faults run at the
settings' rates), so the figure is what a crawler would see.

    python benchmarks/bench_sandbox_web.py --lake ./lake --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
import psutil
import pyarrow.compute as pc
import pyarrow.parquet as pq

from propensity.months import add_months, format_month

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latest_month(lake: Path) -> str:
    """The month after the newest trace: the web with everything on it."""
    t = pq.read_table(lake / "truth" / "web_traces", columns=["published_at"])
    newest = pc.max(t["published_at"]).as_py()
    return add_months(format_month(newest), 1)


class RssWatcher(threading.Thread):
    """Samples a process's resident set size until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.1)


async def wait_ready(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("server did not come up")


async def crawl(port: int, domains: list[str], seconds: float, max_pages: int,
                concurrency: int, via: str = "proxy") -> dict[str, float]:
    """Read sitemaps, then their pages, with ``concurrency`` workers; return counters.

    ``via="proxy"`` sends absolute-form requests to the server as a proxy (aiohttp then
    pools connections per target host); ``via="host"`` sends ``Host`` headers over pooled
    connections to the server's own address.
    """
    proxy = f"http://127.0.0.1:{port}"
    conn = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    stats = {"pages": 0, "bytes": 0, "ok": 0, "errors": 0, "sitemaps": 0}
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:

        async def fetch(url: str) -> bytes | None:
            if via == "proxy":
                request = session.get(url, proxy=proxy, allow_redirects=False)
            else:
                host, _, path = url[len("http://"):].partition("/")
                request = session.get(f"{proxy}/{path}", headers={"Host": host},
                                      allow_redirects=False)
            try:
                async with request as r:
                    body = await r.read()
            except (TimeoutError, aiohttp.ClientError):
                stats["errors"] += 1
                return None
            stats["pages"] += 1
            stats["bytes"] += len(body)
            if r.status == 200:
                stats["ok"] += 1
                return body
            return None

        t0 = time.perf_counter()
        queue: asyncio.Queue[str] = asyncio.Queue()
        for d in domains:
            queue.put_nowait(f"http://{d}/sitemap.xml")
        deadline = t0 + seconds

        inflight = 0

        async def worker() -> None:
            nonlocal inflight
            while time.perf_counter() < deadline and (not max_pages or stats["pages"] < max_pages):
                try:
                    url = queue.get_nowait()
                except asyncio.QueueEmpty:
                    if inflight == 0:
                        return
                    await asyncio.sleep(0.01)
                    continue
                inflight += 1
                try:
                    body = await fetch(url)
                finally:
                    inflight -= 1
                if body is not None and url.endswith("/sitemap.xml"):
                    stats["sitemaps"] += 1
                    try:
                        root = ET.fromstring(body)
                    except ET.ParseError:
                        continue
                    for loc in root.iter(f"{SITEMAP_NS}loc"):
                        if loc.text:
                            queue.put_nowait(loc.text)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats["elapsed"] = time.perf_counter() - t0
    return stats


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", type=Path, default=Path("lake"))
    ap.add_argument("--month", default="latest", help="YYYY-MM, or 'latest'")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--pages", type=int, default=0, help="stop after this many pages (0: no limit)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--sites", type=int, default=0, help="crawl only this many sites (0: all)")
    ap.add_argument("--seed", type=int, default=None, help="sandbox seed the server uses")
    ap.add_argument("--via", choices=("proxy", "host"), default="proxy",
                    help="talk to the server as a proxy (default) or with Host headers")
    args = ap.parse_args(argv)

    lake = args.lake.resolve()
    month = latest_month(lake) if args.month == "latest" else args.month
    domains = pq.read_table(lake / "raw" / "companies", columns=["domain"])["domain"].to_pylist()
    random.Random(0).shuffle(domains)
    if args.sites:
        domains = domains[: args.sites]
    port = free_port()
    cmd = [sys.executable, "-m", "sandbox.web", "--lake", str(lake), "--month", month,
           "--port", str(port)]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    watcher = RssWatcher(server.pid)
    watcher.start()
    try:
        asyncio.run(wait_ready(port, timeout=600))
        load = time.perf_counter() - t0
        proc = psutil.Process(server.pid)
        rss_loaded = proc.memory_info().rss
        cpu0 = sum(proc.cpu_times()[:2])
        stats = asyncio.run(crawl(port, domains, args.seconds, args.pages, args.concurrency,
                                  args.via))
        server_cpu = sum(proc.cpu_times()[:2]) - cpu0
    finally:
        watcher.stop_flag.set()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    el = stats["elapsed"]
    print(f"month: {month}")
    print(f"sites: {len(domains)}")
    print(f"via: {args.via}")
    print(f"load_seconds: {load:.2f}")
    print(f"pages: {int(stats['pages'])}")
    print(f"pages_ok: {int(stats['ok'])}")
    print(f"client_errors: {int(stats['errors'])}")
    print(f"sitemaps_read: {int(stats['sitemaps'])}")
    print(f"elapsed_seconds: {el:.2f}")
    print(f"pages_per_second: {stats['pages'] / el:.1f}")
    print(f"bytes_per_second: {stats['bytes'] / el:.3g}")
    print(f"server_cpu_ms_per_page: {1000 * server_cpu / max(1, stats['pages']):.3f}")
    print(f"server_rss_after_load_mb: {rss_loaded / 2**20:.1f}")
    print(f"server_peak_rss_mb: {watcher.peak / 2**20:.1f}")


if __name__ == "__main__":
    main()
