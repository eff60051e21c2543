"""Programmatic runner: every spider in one Scrapy process, then one atomic publish.

:func:`run_crawl` is what ``propensity crawl --month M [--proxy URL]`` calls. It builds the
project's Scrapy settings with the crawl's month, proxy, lake and job directory, runs the
spiders side by side in one ``CrawlerProcess`` (one reactor, so once per Python process),
and when every spider finished cleanly writes ``signals/month=M`` from the job's staging
(de-duplicated, atomic) and marks the job finished. An interrupted crawl leaves the job
``running``: the next call resumes it.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.jobs import JobDir
from propensity.contracts import SOURCES
from propensity.lake import Lake
from propensity.months import parse_month

log = logging.getLogger(__name__)

SPIDERS: tuple[str, ...] = ("sites", "press", "forum", "social")
SOURCE_OF_SPIDER = {"sites": "site", "press": "press", "forum": "forum", "social": "social"}


@dataclass
class CrawlSummary:
    """What a crawl did: pages, signals per source, resolution, bytes, time."""

    month: str
    finished: bool
    seconds: float
    pages: int = 0
    requests: int = 0
    response_bytes: int = 0
    request_bytes: int = 0
    cache_hits: int = 0
    not_modified: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    resolution: dict[str, dict[str, int]] = field(default_factory=dict)
    published: int | None = None
    partition: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A short human-readable report."""
        out = [f"crawl {self.month}: {'finished' if self.finished else 'INTERRUPTED'} in "
               f"{self.seconds:.0f}s, {self.pages} pages parsed, {self.requests} requests, "
               f"{self.response_bytes / 1e6:.1f} MB received, {self.not_modified} not modified, "
               f"{self.cache_hits} served from cache"]
        for src in SOURCES:
            if src in self.signals or src in self.resolution:
                r = self.resolution.get(src, {})
                out.append(f"  {src:6s} signals stored {self.signals.get(src, 0):6d}  "
                           f"resolved {r.get('resolved', 0):6d}  ambiguous "
                           f"{r.get('ambiguous', 0):5d}  unresolved {r.get('unresolved', 0):5d}")
        if self.published is not None:
            out.append(f"  published {self.published} signals to {self.partition}")
        return out


def crawl_settings(month: str, proxy: str | None = None, lake: str | Path | None = None,
                   job_dir: str | Path | None = None, fresh: bool = False,
                   overrides: Mapping[str, Any] | None = None) -> Any:
    """The project's Scrapy settings for one crawl (``crawlers.settings`` + ``CRAWL_*``)."""
    from scrapy.settings import Settings

    parse_month(month)
    s = Settings()
    s.setmodule("crawlers.settings", priority="project")
    s.set("CRAWL_MONTH", month, priority="cmdline")
    if proxy is not None:
        s.set("CRAWL_PROXY", proxy, priority="cmdline")
    if lake is not None:
        s.set("CRAWL_LAKE", str(lake), priority="cmdline")
    if job_dir is not None:
        s.set("CRAWL_JOB_DIR", str(job_dir), priority="cmdline")
    s.set("CRAWL_FRESH", fresh, priority="cmdline")
    s.set("CRAWL_PUBLISH", False, priority="cmdline")  # published once, below
    for k, v in (overrides or {}).items():
        s.set(k, v, priority="cmdline")
    return s


def run_crawl(month: str, proxy: str | None = None, lake: str | Path | None = None,
              spiders: Sequence[str] = SPIDERS, job_dir: str | Path | None = None,
              fresh: bool = False, settings: Mapping[str, Any] | None = None,
              spider_args: Mapping[str, Mapping[str, Any]] | None = None,
              publish: bool = True) -> CrawlSummary:
    """Crawl ``spiders`` for ``month`` and publish the month's signals; see the module doc.

    ``settings`` overrides Scrapy settings (e.g. ``{"DOWNLOAD_DELAY": 0}``);
    ``spider_args`` maps a spider name to its arguments (e.g. ``{"sites": {"shard": "0/4"}}``);
    ``publish=False`` leaves the signals in the job's staging (sharded crawls publish once,
    with :func:`publish`, after every shard).
    """
    from scrapy.crawler import CrawlerProcess

    from crawlers.config import crawl_job, crawl_lake, crawl_state_dir

    unknown = [n for n in spiders if n not in SPIDERS]
    if unknown:
        raise ValueError(f"unknown spider(s) {unknown}; known: {', '.join(SPIDERS)}")
    s = crawl_settings(month, proxy, lake, job_dir, fresh, settings)
    lake_root = crawl_lake(s)
    job = crawl_job(s)
    if job is None:
        raise ValueError("a crawl needs a job directory (CRAWL_JOB_DIR may not be 'none')")
    t0 = time.monotonic()
    spider_args = {k: dict(v) for k, v in (spider_args or {}).items()}
    workers: list[tuple[subprocess.Popen[bytes], Path]] = []
    n = _processes(s, spiders, spider_args, lake_root)
    if n > 1:
        # company sites in n shards, one worker process each; this process runs the shared
        # platforms, whose feeds are chains of requests that must not queue behind thousands
        # of site pages in one reactor
        workers = [_start_worker(i, n, month, proxy, lake_root, job.path, settings)
                   for i in range(n)]
        spiders = [name for name in spiders if name != "sites"]
    own_handlers = bool(logging.getLogger().handlers)
    if own_handlers:  # the CLI already logs (rich): Scrapy's records flow to its handlers
        s.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    crawlers = []
    if spiders:
        process = CrawlerProcess(s)
        if own_handlers:  # Scrapy's logging config sets its loggers to DEBUG: honour it
            logging.getLogger("scrapy").setLevel(s.get("LOG_LEVEL", "INFO"))
        for name in spiders:
            crawler = process.create_crawler(name)
            crawlers.append((name, crawler))
            process.crawl(crawler, **dict((spider_args or {}).get(name, {})))
        process.start()
    worker_stats: list[tuple[str, dict[str, Any]]] = []
    for i, (w, out) in enumerate(workers):
        code = w.wait()
        try:
            worker_stats.append((f"sites-{i}", read_summary_file(out)["stats"]["sites"]))
        except (OSError, ValueError, KeyError):
            worker_stats.append((f"sites-{i}", {"finish_reason": f"worker exit {code}"}))
    summary = CrawlSummary(month=month, finished=False, seconds=time.monotonic() - t0)
    all_stats = [(name, dict(crawler.stats.get_stats()) if crawler.stats else {})
                 for name, crawler in crawlers] + worker_stats
    for name, st in all_stats:
        summary.stats[name] = st
        summary.reasons[name] = str(st.get("finish_reason", "unknown"))
        summary.requests += int(st.get("wire/requests", 0))
        summary.response_bytes += int(st.get("wire/response_bytes", 0))
        summary.request_bytes += int(st.get("wire/request_bytes", 0))
        summary.cache_hits += int(st.get("httpcache/hit", 0))
        summary.not_modified += int(st.get("wire/status/304", 0))
        summary.pages += int(st.get("response_received_count", 0))
        src = SOURCE_OF_SPIDER[name.split("-")[0]]
        summary.signals[src] = summary.signals.get(src, 0) + int(
            st.get(f"signals/{src}/stored", 0))
        res = summary.resolution.setdefault(src, {})
        for k in ("resolved", "ambiguous", "unresolved"):
            res[k] = res.get(k, 0) + int(st.get(f"signals/{src}/{k}", 0))
    summary.finished = all(r == "finished" for r in summary.reasons.values())
    if summary.finished and publish:
        dest, n = job.publish(Lake(lake_root), month)
        summary.published, summary.partition = n, str(dest)
        job.finish()
    else:
        log.warning("crawl interrupted (%s): the job stays open in %s and resumes next time",
                    summary.reasons, job.path)
    for line in summary.lines():
        log.info(line)
    out = s.get("CRAWL_SUMMARY_FILE")
    if out:  # a worker process: its parent reads it
        _write_json(summary, Path(out))
    else:
        write_summary(summary, crawl_state_dir(s))
    return summary


def _processes(s: Any, spiders: Sequence[str], spider_args: Mapping[str, Any],
               lake_root: Path) -> int:
    """How many processes crawl the company sites: ``CRAWL_PROCESSES``, or with 0 (auto)
    one per ``CRAWL_SITES_PER_PROCESS`` domains, at most one per CPU core. Twisted runs one
    reactor on one core per process, so on a multi-core machine a large crawl is split into
    domain shards (the ``--shard`` mechanism), each in a worker process, one job directory;
    with one process everything runs in this one."""
    import os

    if "sites" not in spiders or (spider_args.get("sites") or {}).get("shard") \
            or (spider_args.get("sites") or {}).get("domains"):
        return 1
    n = s.getint("CRAWL_PROCESSES", 0)
    if n <= 0:
        from crawlers.spiders.sites import company_domains

        per = max(1, s.getint("CRAWL_SITES_PER_PROCESS", 1500))
        n = min(os.cpu_count() or 1, 4, len(company_domains(lake_root)) // per)
    return max(1, n)


def _start_worker(i: int, n: int, month: str, proxy: str | None, lake_root: Path,
                  job_path: Path, settings: Mapping[str, Any] | None,
                  ) -> tuple[subprocess.Popen[bytes], Path]:
    """Shard ``i/n`` of the company sites in a child process attached to the same job.

    The child dies with its parent (``PR_SET_PDEATHSIG`` on Linux), so a killed crawl
    leaves no orphan behind and resumes whole when run again."""
    import json
    import sys

    out = job_path / f".worker-{i}-of-{n}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "crawlers", "crawl", "--month", month, "--lake",
           str(lake_root), "--spiders", "sites", "--shard", f"{i}/{n}", "--no-publish",
           "--job-dir", str(job_path), "-s", "CRAWL_JOB_ATTACH=1", "-s", "CRAWL_PROCESSES=1",
           "-s", f"CRAWL_SUMMARY_FILE={out}"]
    if proxy is not None:
        cmd += ["--proxy", proxy]
    for k, v in (settings or {}).items():
        if k not in ("CRAWL_JOB_ATTACH", "CRAWL_PROCESSES", "CRAWL_SUMMARY_FILE"):
            cmd += ["-s", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent), out


def _die_with_parent() -> None:
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _write_json(summary: CrawlSummary, dest: Path) -> Path:
    import json
    import os
    from dataclasses import asdict

    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(json.dumps(asdict(summary), indent=1, default=str))
    os.replace(tmp, dest)
    return dest


def read_summary_file(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text())


def write_summary(summary: CrawlSummary, state_dir: Path) -> Path:
    """Record a run's summary as ``<state>/runs/month=M.json`` (the last run of M)."""
    runs = state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    return _write_json(summary, runs / f"month={summary.month}.json")


def read_summary(state_dir: Path, month: str) -> dict[str, Any]:
    """The recorded summary of the last run of ``month``."""
    import json

    return json.loads((state_dir / "runs" / f"month={month}.json").read_text())


def publish(month: str, lake: str | Path | None = None,
            job_dir: str | Path | None = None) -> tuple[Path, int]:
    """Write ``signals/month=M`` from a job's staging (e.g. after sharded crawls)."""
    from crawlers.config import crawl_job, crawl_lake

    s = crawl_settings(month, None, lake, job_dir)
    job = crawl_job(s)
    assert job is not None
    return job.publish(Lake(crawl_lake(s)), month)


__all__ = ["SPIDERS", "CrawlSummary", "JobDir", "crawl_settings", "publish", "run_crawl"]
