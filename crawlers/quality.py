"""Crawl quality measured against the sandbox's ``truth/web_traces`` (sandbox markets only).

A trace is a (customer, topic, url) mention the synthetic web carries; a signal is a
(customer, topic, url) the crawl reported. Per source:

- **precision** = resolved signals that are traces / resolved signals;
- **recall** = traces found / traces a polite crawler may fetch: traces published before the
  month's cut-off (the web as of month M shows them), minus those on pages the site's
  robots.txt disallows for our user agent. Noise mentions count like any other: the crawler
  reports what pages say;
- **entity resolution** (press, forum, social): among resolved signals whose page and topic
  carry a trace, the share credited to the right customer; plus the counts of signals left
  ambiguous (a name several customers share) or unresolved (no customer named).

Diagnostics: traces on pages the crawl never received (e.g. linked only through a dead link)
are counted as ``not fetched``; they stay in the recall denominator.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.compute as pc

from propensity.contracts import SIGNALS, SOURCES, WEB_TRACES
from propensity.lake import Lake
from propensity.months import parse_month

log = logging.getLogger(__name__)


@dataclass
class SourceQuality:
    """Quality figures of one source."""

    source: str
    traces: int = 0
    robots_excluded: int = 0
    signals: int = 0
    true_positives: int = 0
    ambiguous: int = 0
    unresolved: int = 0
    er_checked: int = 0
    er_correct: int = 0
    not_fetched: int = 0

    @property
    def precision(self) -> float:
        return self.true_positives / self.signals if self.signals else float("nan")

    @property
    def recall(self) -> float:
        return self.true_positives / self.traces if self.traces else float("nan")

    @property
    def er_accuracy(self) -> float:
        return self.er_correct / self.er_checked if self.er_checked else float("nan")


@dataclass
class QualityReport:
    """Per-source quality of one month's crawl."""

    month: str
    rows: list[SourceQuality] = field(default_factory=list)

    def row(self, source: str) -> SourceQuality:
        return next(r for r in self.rows if r.source == source)

    @property
    def total(self) -> SourceQuality:
        t = SourceQuality("all")
        for r in self.rows:
            for k in ("traces", "robots_excluded", "signals", "true_positives", "ambiguous",
                      "unresolved", "er_checked", "er_correct", "not_fetched"):
                setattr(t, k, getattr(t, k) + getattr(r, k))
        return t

    def as_dicts(self) -> list[dict[str, Any]]:
        out = []
        for r in [*self.rows, self.total]:
            d = asdict(r)
            d.update(precision=r.precision, recall=r.recall, er_accuracy=r.er_accuracy)
            out.append(d)
        return out

    def table(self) -> Any:
        """A rich table of the report."""
        from rich.table import Table

        t = Table(title=f"Crawl quality, {self.month} (vs truth/web_traces, polite pages)")
        for col in ("source", "traces", "robots excl.", "signals", "TP", "precision", "recall",
                    "ER accuracy", "ambiguous", "unresolved", "not fetched"):
            t.add_column(col, justify="right")
        for r in [*self.rows, self.total]:
            er = f"{r.er_accuracy:.3f}" if r.er_checked else "-"
            t.add_row(r.source, str(r.traces), str(r.robots_excluded), str(r.signals),
                      str(r.true_positives), f"{r.precision:.3f}", f"{r.recall:.3f}", er,
                      str(r.ambiguous), str(r.unresolved), str(r.not_fetched))
        return t


def _cache_path(lake_root: Path) -> Path:
    return lake_root / "crawl_state" / "httpcache.sqlite"


def _robots_from_cache(cache: Path, domains: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    if not cache.exists():
        return out
    con = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        for d in domains:
            row = con.execute("SELECT body FROM responses WHERE url=?",
                              (f"http://{d}/robots.txt",)).fetchone()
            if row:
                out[d] = zlib.decompress(row[0]).decode("utf-8", "replace")
    finally:
        con.close()
    return out


def _robots_from_web(domains: Iterable[str], proxy: str | None) -> dict[str, str]:
    import urllib.request

    handlers = [urllib.request.ProxyHandler({"http": proxy})] if proxy else []
    opener = urllib.request.build_opener(*handlers)
    out = {}
    for d in domains:
        try:
            with opener.open(f"http://{d}/robots.txt", timeout=10) as r:
                out[d] = r.read().decode("utf-8", "replace")
        except OSError:
            out[d] = ""
    return out


def _fetched_urls(cache: Path) -> set[str] | None:
    if not cache.exists():
        return None
    con = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT url FROM responses")}
    finally:
        con.close()


def evaluate(lake_root: str | Path, month: str, proxy: str | None = None,
             user_agent: str = "PropensityBot") -> QualityReport:
    """Measure ``signals/month=M`` of a sandbox lake; see the module docstring."""
    from protego import Protego

    root = Path(lake_root)
    lake = Lake(root)
    cut = parse_month(month)
    sig = lake.read(SIGNALS, month, columns=["customer_id", "topic", "url", "source",
                                              "resolution"]).to_pylist()
    tr = lake.read(WEB_TRACES, columns=["customer_id", "topic", "url", "published_at",
                                         "source"])
    tr = tr.filter(pc.less(tr["published_at"], dt.datetime(cut.year, cut.month, 1).date()))
    traces = tr.to_pylist()

    site_domains = sorted({urlparse(t["url"]).hostname or "" for t in traces
                           if t["source"] == "site"})
    cache = _cache_path(root)
    robots = _robots_from_cache(cache, site_domains)
    missing = [d for d in site_domains if d not in robots]
    if missing:
        robots.update(_robots_from_web(missing, proxy))
    parsers = {d: Protego.parse(txt) for d, txt in robots.items()}
    fetched = _fetched_urls(cache)

    by_source: dict[str, SourceQuality] = {s: SourceQuality(s) for s in SOURCES}
    truth: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    truth_pages: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    for t in traces:
        src = t["source"]
        q = by_source[src]
        if src == "site":
            host = urlparse(t["url"]).hostname or ""
            p = parsers.get(host)
            if p is not None and not p.can_fetch(t["url"], user_agent):
                q.robots_excluded += 1
                continue
        key = (t["customer_id"], t["topic"], t["url"])
        if key in truth[src]:
            continue
        truth[src].add(key)
        truth_pages[src][(t["topic"], t["url"])].add(t["customer_id"])
        if fetched is not None and t["url"] not in fetched and src != "social":
            q.not_fetched += 1
    pred: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for s in sig:
        q = by_source[s["source"]]
        if s["customer_id"] is None:
            if s["resolution"] == "ambiguous":
                q.ambiguous += 1
            else:
                q.unresolved += 1
            continue
        pred[s["source"]].add((s["customer_id"], s["topic"], s["url"]))
    for src, q in by_source.items():
        q.traces = len(truth[src])
        q.signals = len(pred[src])
        q.true_positives = len(pred[src] & truth[src])
        if src != "site":
            for cid, topic, url in pred[src]:
                owners = truth_pages[src].get((topic, url))
                if owners:
                    q.er_checked += 1
                    q.er_correct += cid in owners
    report = QualityReport(month, [by_source[s] for s in SOURCES])
    for r in report.as_dicts():
        log.debug("quality %s: %s", month, r)
    return report
