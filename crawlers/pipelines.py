"""Item pipelines: resolve the company, validate against the contract, dedupe, store.

Order (``ITEM_PIPELINES``): :class:`ResolvePipeline` (which customer a signal is about),
:class:`ValidatePipeline` (the ``signals`` contract, plus the signal id), :class:`DedupePipeline`
(same url, topic and customer: ``DropItem``), :class:`StorePipeline` (staging batches in the
job directory, the month's partition when the crawl finishes). Every component reads its
settings in ``from_crawler`` and opens its resources in ``open_spider``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawlers.config import crawl_job, crawl_lake, crawl_month
from crawlers.items import TABLE_COLUMNS, PageDoneItem, SignalItem
from crawlers.jobs import JobDir, signal_id
from crawlers.resolve import UNRESOLVED, CompanyIndex, Resolution
from propensity.contracts import PRODUCTS, SOURCES, TOPIC_IDS
from propensity.lake import Lake

log = logging.getLogger(__name__)

_INDEXES: dict[str, CompanyIndex] = {}


def company_index(lake_root: str | Path) -> CompanyIndex:
    """The customers' index of a lake, built once per process and shared by the crawlers."""
    key = str(Path(lake_root).resolve())
    if key not in _INDEXES:
        t0 = time.perf_counter()
        _INDEXES[key] = CompanyIndex.from_lake(lake_root)
        log.info("company index: %d customers in %.2fs", len(_INDEXES[key]),
                 time.perf_counter() - t0)
    return _INDEXES[key]


class ResolvePipeline:
    """Sets ``customer_id`` and ``domain``: the site's owner for company sites, entity
    resolution (:mod:`crawlers.resolve`) for pages on shared sources."""

    def __init__(self, crawler: Crawler, lake_root: Path) -> None:
        self.crawler = crawler
        self.lake_root = lake_root
        self.index: CompanyIndex | None = None
        self._last: tuple[str, Resolution] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResolvePipeline:
        return cls(crawler, crawl_lake(crawler.settings))

    def open_spider(self) -> None:
        self.index = company_index(self.lake_root)

    def close_spider(self) -> None:
        self._last = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, SignalItem):
            return item
        assert self.index is not None
        stats = self.crawler.stats
        if item.source == "site":
            cid = self.index.customer_of_domain(item.domain or "")
            res = (self.index.match(cid, 1.0, "site") if cid
                   else UNRESOLVED)
        else:
            # the topics of one page arrive one after the other: resolve the page once
            if self._last is not None and self._last[0] == item.url:
                res = self._last[1]
            else:
                res = self.index.resolve(item.subjects, item.mention_text, item.mention_domains)
                self._last = (item.url, res)
        item.resolution = res.status
        if res.resolved:
            item.customer_id = res.customer_id
            item.domain = res.domain or item.domain
            item.match_method = res.method
            item.match_confidence = res.confidence
        else:
            item.customer_id = None
            item.match_method = None
            item.match_confidence = None
            if item.domain is None and item.mention_domains:
                item.domain = item.mention_domains[0]
        if stats is not None:
            stats.inc_value(f"signals/{item.source}/{res.status}")
        return item


class ValidatePipeline:
    """Checks a signal against the ``signals`` contract and sets its ``signal_id``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, SignalItem):
            return item
        problems = []
        if item.source not in SOURCES:
            problems.append(f"source {item.source!r}")
        if item.topic not in TOPIC_IDS:
            problems.append(f"topic {item.topic!r}")
        if not item.url or not str(item.url).startswith(("http://", "https://")):
            problems.append(f"url {item.url!r}")
        if not item.evidence or len(item.evidence) > 280:
            problems.append("evidence missing or longer than 280 characters")
        if item.confidence is None or not 0.0 <= item.confidence <= 1.0:
            problems.append(f"confidence {item.confidence!r}")
        if not item.product_areas or any(p not in PRODUCTS for p in item.product_areas):
            problems.append(f"product_areas {item.product_areas!r}")
        if not item.signal_type:
            problems.append("signal_type missing")
        if not isinstance(item.observed_at, dt.datetime):
            problems.append("observed_at missing")
        if item.published_at is not None and not isinstance(item.published_at, dt.date):
            problems.append(f"published_at {item.published_at!r}")
        if problems:
            self.crawler.stats.inc_value("signals/invalid")
            raise DropItem(f"invalid signal from {item.url}: {'; '.join(problems)}")
        item.signal_id = signal_id(item.url, item.topic, item.customer_id)
        return item


class DedupePipeline:
    """Drops a signal already seen in this job (same url, topic and customer)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: set[tuple[str, str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        job = crawl_job(self.crawler.settings)
        self.seen = job.stored_keys() if job is not None else set()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, SignalItem):
            return item
        key = (item.url, item.topic, item.customer_id or "")
        if key in self.seen:
            self.crawler.stats.inc_value("signals/duplicate")
            raise DropItem(f"duplicate signal {key}", log_level="DEBUG")
        self.seen.add(key)
        return item


class StorePipeline:
    """Appends signals and page-done records to the job's staging in small Parquet batches
    (atomic files) and, when the crawl finishes, publishes ``signals/month=M``.

    Settings: ``CRAWL_STORE_BATCH`` records or ``CRAWL_STORE_SECONDS`` seconds per batch;
    ``CRAWL_PUBLISH`` (publish when this spider finishes; the runner turns it off and
    publishes once after all spiders).
    """

    def __init__(self, crawler: Crawler, batch: int, seconds: float, publish: bool) -> None:
        self.crawler = crawler
        self.batch = batch
        self.seconds = seconds
        self.publish = publish
        self.rows: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.job: JobDir | None = None
        self.spider_name = "spider"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        if crawl_job(s) is None:
            raise NotConfigured("no crawl job directory")
        o = cls(crawler, s.getint("CRAWL_STORE_BATCH", 500),
                s.getfloat("CRAWL_STORE_SECONDS", 10.0), s.getbool("CRAWL_PUBLISH", True))
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    def open_spider(self) -> None:
        self.job = crawl_job(self.crawler.settings)
        spider = self.crawler.spider
        self.spider_name = getattr(spider, "name", "spider")

    def process_item(self, item: Any) -> Any:
        if isinstance(item, SignalItem):
            row = {k: getattr(item, k) for k in TABLE_COLUMNS}
            row["record"] = "signal"
            row["request_url"] = None
            self.rows.append(row)
            self.crawler.stats.inc_value(f"signals/{item.source}/stored")
        elif isinstance(item, PageDoneItem):
            self.rows.append({"record": "page", "request_url": item.url,
                              "url": item.canonical or item.url, "source": item.source,
                              "page_kind": item.page_kind})
            self.crawler.stats.inc_value(f"pages/{item.source}/done")
        else:
            return item
        if len(self.rows) >= self.batch or time.monotonic() - self.last_flush > self.seconds:
            self.flush()
        return item

    def flush(self) -> None:
        if self.job is not None and self.rows:
            self.job.write_part(self.rows, self.spider_name)
        self.rows = []
        self.last_flush = time.monotonic()

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if not self.publish or reason != "finished" or self.job is None:
            return
        dest, n = self.job.publish(Lake(crawl_lake(self.crawler.settings)),
                                   crawl_month(self.crawler.settings))
        self.crawler.stats.set_value("signals/published", n)


def as_row(item: Any) -> dict[str, Any]:
    """A signal item as a plain dict of table columns (tests, tools)."""
    d = dataclasses.asdict(item)
    return {k: d.get(k) for k in TABLE_COLUMNS}
