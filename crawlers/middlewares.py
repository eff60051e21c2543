"""Downloader and spider middlewares, the HTTP cache policy and storage, the scheduler queue.

Downloader middlewares (request order):

- :class:`SkipDoneMiddleware` (50): on a resumed job, pages already stored are not fetched;
- :class:`ProxyMiddleware` (90): every request goes through ``CRAWL_PROXY``;
- :class:`BoundedRobotsTxtMiddleware` (100, replaces Scrapy's): robots.txt obeyed, with the
  parsers of the most recent hosts only kept in memory;
- :class:`EncodingFixMiddleware` (580): a body labelled UTF-8 that is not UTF-8 is read as
  Windows-1252 (the usual mislabel);
- :class:`BackoffRetryMiddleware` (550, replaces Scrapy's): retries 5xx and timeouts with
  exponential backoff and jitter;
- Scrapy's ``HttpCacheMiddleware`` (900) with :class:`RevalidatePolicy` and
  :class:`SqliteCacheStorage`: conditional requests (``If-None-Match`` /
  ``If-Modified-Since``), pages whose sitemap ``lastmod`` did not change served from the
  cache, kill-safe storage in SQLite;
- :class:`WireStatsMiddleware` (950): bytes and statuses actually on the wire (a 304 counts
  its headers only; cache hits count nothing).

Extension :class:`RevalidatingAutoThrottle` replaces Scrapy's AutoThrottle (a 304 lets a
site's delay come down again).

Spider middleware :class:`TrapGuardMiddleware` drops crawler-trap URLs. The scheduler queue
:class:`PoliteDownloaderAwarePriorityQueue` never hands the downloader a request for a domain
that is at its concurrency or within its delay, so many sites are crawled side by side, each
politely, and the crawl does not idle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import sqlite3
import threading
import time
import weakref
import zlib
from collections import OrderedDict, defaultdict, deque
from itertools import islice
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Headers, Response, TextResponse
from scrapy.pqueues import DownloaderAwarePriorityQueue
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawlers.config import crawl_job, crawl_proxy, crawl_state_dir

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# Downloader middlewares
# --------------------------------------------------------------------------------------


class ProxyMiddleware:
    """Routes every request through ``CRAWL_PROXY`` (off when it is ``none``)."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        proxy = crawl_proxy(crawler.settings)
        if not proxy:
            raise NotConfigured("no proxy")
        return cls(proxy)

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy)


class SkipDoneMiddleware:
    """On a resumed job, drops requests for pages whose signals are already stored."""

    def __init__(self, crawler: Crawler, done: set[str]) -> None:
        self.crawler = crawler
        self.done = done

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipDoneMiddleware:
        job = crawl_job(crawler.settings)
        if job is None or not job.resumed:
            raise NotConfigured("not a resumed job")
        return cls(crawler, job.done_pages())

    def process_request(self, request: Request) -> None:
        if request.meta.get("resumable") and request.url in self.done:
            self.crawler.stats.inc_value("resume/skipped_pages")
            raise IgnoreRequest(f"already stored: {request.url}")


class _RecentParsers(OrderedDict):
    """robots.txt parsers of the most recently used ``maxsize`` hosts (pending fetches are
    never evicted). A host evicted and met again gets its robots.txt from the HTTP cache."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.maxsize:
            for old in list(islice(self.keys(), 8)):
                if len(self) <= self.maxsize:
                    break
                if not isinstance(super().__getitem__(old), Deferred):
                    del self[old]


class BoundedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware keeping at most ``ROBOTSTXT_CACHE_SIZE`` parsers, so
    memory stays flat on crawls of many thousands of sites."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._parsers = _RecentParsers(crawler.settings.getint("ROBOTSTXT_CACHE_SIZE", 2000))


class EncodingFixMiddleware:
    """Reads a body as Windows-1252 when it is declared (or guessed) UTF-8 but is not."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingFixMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        enc = (response.encoding or "").lower().replace("_", "-")
        if enc not in ("utf-8", "utf8"):
            return response
        try:
            response.body.decode("utf-8")
        except UnicodeDecodeError:
            self.crawler.stats.inc_value("encoding/mislabelled_utf8")
            return response.replace(encoding="cp1252")
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (5xx, 408, 429, timeouts, connection errors) with exponential backoff.

    Before a retry goes back to the scheduler it waits ``RETRY_BACKOFF_BASE * 2**(n-1)``
    seconds (n = retries so far), at most ``RETRY_BACKOFF_MAX``, times a jitter in [0.5, 1.5).
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 0.5)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 10.0)

    async def _backoff(self, result: Any) -> Any:
        if isinstance(result, Request) and self.base > 0:
            n = int(result.meta.get("retry_times", 1))
            delay = min(self.cap, self.base * 2 ** (n - 1)) * (0.5 + random.random())
            await asyncio.sleep(delay)
        return result

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        return await self._backoff(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        return await self._backoff(super().process_exception(request, exception))


class RevalidatingAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, reading a ``304 Not Modified`` as the healthy answer it is.

    AutoThrottle never lowers a site's delay on a non-200 response (error pages are small
    and fast). An incremental crawl mostly gets 304s, so one slow page early on would keep
    the delay up for the rest of the crawl (a forum revalidated at two pages a second).
    """

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)


class WireStatsMiddleware:
    """Counts what really crosses the network: requests, response bytes, statuses.

    Sits next to the downloader (after the HTTP cache), so responses served from the cache
    are not counted and a 304 counts only its status line and headers.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WireStatsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        self.stats.inc_value("wire/requests")
        self.stats.inc_value("wire/request_bytes", _request_size(request))

    def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags:  # served by the cache: nothing crossed the wire
            return response
        size = len(response.body) + len(response.headers.to_string()) + 17
        self.stats.inc_value("wire/responses")
        self.stats.inc_value("wire/response_bytes", size)
        self.stats.inc_value(f"wire/status/{response.status}")
        return response


class NotSentReleaseMiddleware:
    """Tells the polite scheduler queue which requests never reached their site (answered
    by the HTTP cache, or dropped by a middleware with ``IgnoreRequest``), so they do not
    hold the site's politeness delay (see :meth:`PoliteDownloaderAwarePriorityQueue.not_sent`).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NotSentReleaseMiddleware:
        return cls(crawler)

    def _release(self, request: Request) -> None:
        queue = PoliteDownloaderAwarePriorityQueue.of(self.crawler)
        if queue is not None:
            queue.not_sent(request)

    def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags:
            self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):
            self._release(request)


def _request_size(request: Request) -> int:
    return len(request.method) + len(request.url) + 12 + len(request.headers.to_string()) + len(
        request.body or b"")


# --------------------------------------------------------------------------------------
# HTTP cache: conditional requests, sitemap lastmod, kill-safe storage
# --------------------------------------------------------------------------------------


class RevalidatePolicy(RFC2616Policy):
    """Cache policy of an incremental crawler.

    - a page stored earlier in the same job (a resumed crawl, a second request for
      robots.txt) is served from the cache;
    - a page requested from a sitemap whose ``lastmod`` equals the one it had when stored
      is served from the cache (``CRAWL_TRUST_LASTMOD``, default on);
    - anything else is revalidated with ``If-None-Match`` / ``If-Modified-Since``: a 304
      serves the stored page, a 5xx serves it too (stale on error), a 200 replaces it.

    Only 200 responses are stored.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.trust_lastmod = settings.getbool("CRAWL_TRUST_LASTMOD", True)
        job = crawl_job(settings)
        self.job_started = job.started_at if job is not None else time.time()

    def should_cache_response(self, response: Response, request: Request) -> bool:
        cc = self._parse_cachecontrol(response)
        return response.status == 200 and b"no-store" not in cc

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        stored = float(request.meta.get("cache_stored_at") or 0.0)
        if stored >= self.job_started:
            return True
        lastmod = request.meta.get("lastmod")
        if self.trust_lastmod and lastmod and lastmod == request.meta.get("cache_lastmod"):
            return True
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse: Response, response: Response,
                                 request: Request) -> bool:
        return response.status == 304 or response.status >= 500


class _CacheDB:
    """One SQLite connection per cache file and process, shared by every crawler in it
    (all crawlers run on one thread). Writes are buffered and committed in one short
    transaction per batch, so several crawl processes can share the file (WAL) without
    waiting on each other's open transactions."""

    _open: dict[Path, _CacheDB] = {}
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                    timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS responses (fp BLOB PRIMARY KEY, url TEXT, status INT, "
            "headers BLOB, body BLOB, stored REAL, lastmod TEXT)")
        self.refs = 0
        self.buffer: dict[bytes, tuple] = {}
        self.last_commit = time.monotonic()

    @classmethod
    def acquire(cls, path: Path) -> _CacheDB:
        with cls._lock:
            p = path.resolve()
            db = cls._open.get(p)
            if db is None:
                db = cls._open[p] = cls(p)
            db.refs += 1
            return db

    def release(self) -> None:
        with self._lock:
            self.refs -= 1
            if self.refs <= 0:
                self.commit()
                self.conn.close()
                self._open.pop(self.path, None)

    def write(self, row: tuple) -> None:
        self.buffer[row[0]] = row
        if len(self.buffer) >= 200 or time.monotonic() - self.last_commit > 2.0:
            self.commit()

    def commit(self) -> None:
        if self.buffer:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany("INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?,?)",
                                      list(self.buffer.values()))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.buffer.clear()
        self.last_commit = time.monotonic()

    def read(self, fp: bytes) -> tuple | None:
        row = self.buffer.get(fp)
        if row is not None:
            return row[1:]
        return self.conn.execute(
            "SELECT url, status, headers, body, stored, lastmod FROM responses WHERE fp=?",
            (fp,)).fetchone()


class SqliteCacheStorage:
    """HTTP cache storage in one SQLite file (``HTTPCACHE_DIR``, default
    ``<lake>/crawl_state/httpcache.sqlite``): WAL journal, batched commits, compressed
    bodies. A killed crawl loses at most the last uncommitted batch, never the file."""

    def __init__(self, settings: BaseSettings) -> None:
        d = settings.get("HTTPCACHE_DIR")
        base = Path(d) if d and Path(d).is_absolute() else crawl_state_dir(settings)
        self.path = base / "httpcache.sqlite"
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.db: _CacheDB | None = None
        self._fingerprinter: Any = None

    def open_spider(self, spider: Any) -> None:
        self.db = _CacheDB.acquire(self.path)
        self._fingerprinter = spider.crawler.request_fingerprinter

    def close_spider(self, spider: Any) -> None:
        if self.db is not None:
            self.db.release()
            self.db = None

    def retrieve_response(self, spider: Any, request: Request) -> Response | None:
        assert self.db is not None
        row = self.db.read(self._fingerprinter.fingerprint(request))
        if row is None:
            return None
        url, status, headers, body, stored, lastmod = row
        if 0 < self.expiration_secs < time.time() - stored:
            return None
        request.meta["cache_stored_at"] = stored
        request.meta["cache_lastmod"] = lastmod
        hdrs = Headers(json.loads(zlib.decompress(headers)))
        data = zlib.decompress(body)
        respcls = responsetypes.from_args(headers=hdrs, url=url, body=data)
        return respcls(url=url, headers=hdrs, status=status, body=data)

    def store_response(self, spider: Any, request: Request, response: Response) -> None:
        assert self.db is not None
        headers = {k.decode("latin-1"): [v.decode("latin-1") for v in vs]
                   for k, vs in response.headers.items()}
        self.db.write((self._fingerprinter.fingerprint(request), response.url, response.status,
                       zlib.compress(json.dumps(headers).encode(), 3),
                       zlib.compress(response.body, 3), time.time(),
                       request.meta.get("lastmod")))


# --------------------------------------------------------------------------------------
# Spider middleware: crawler traps
# --------------------------------------------------------------------------------------

_DATE_PATH = re.compile(r"/((?:19|20|21|22)\d{2})(?:[/-](\d{1,2}))?(?:[/-](\d{1,2}))?(?=/|$|\?)")
_DIGITS = re.compile(r"\d+")
_DATE_ONLY = re.compile(r"/(?:19|20|21|22)\d{2}(?:[/-]\d{1,2}){0,2}/?$")


class TrapGuardMiddleware(BaseSpiderMiddleware):
    """Drops requests that look like a crawler trap.

    - dates in the path more than ``CRAWL_TRAP_FUTURE_DAYS`` ahead (endless calendars);
    - more than ``CRAWL_TRAP_CALENDAR_MAX`` date-only pages on one host (a calendar or an
      archive: the path ends in a date, e.g. ``/events/calendar/2026/11``);
    - paths deeper than ``CRAWL_TRAP_MAX_DEPTH`` segments, or repeating a segment 3 times;
    - more than ``CRAWL_TRAP_TEMPLATE_MAX`` distinct URLs of one shape on one host (the
      shape is the path and query with digit runs folded), e.g. ``/events/2031/07``;
    - more than ``CRAWL_MAX_REQUESTS_PER_HOST`` requests to one host.

    A limit of 0 switches that check off.
    """

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.future_days = s.getint("CRAWL_TRAP_FUTURE_DAYS", 366)
        self.max_depth = s.getint("CRAWL_TRAP_MAX_DEPTH", 10)
        self.template_max = s.getint("CRAWL_TRAP_TEMPLATE_MAX", 60)
        self.calendar_max = s.getint("CRAWL_TRAP_CALENDAR_MAX", 8)
        self.host_max = s.getint("CRAWL_MAX_REQUESTS_PER_HOST", 0)
        self.memory = s.getint("CRAWL_TRAP_MEMORY", 20_000)
        self.templates: dict[int, int] = defaultdict(int)
        self.hosts: dict[str, int] = defaultdict(int)
        self.today = time.gmtime()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TrapGuardMiddleware:
        o = cls(crawler)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    def spider_closed(self, spider: Any) -> None:
        self.templates.clear()
        self.hosts.clear()

    def _prune(self) -> None:
        """Forget shapes seen once (most article URLs), so memory stays flat on big crawls."""
        self.templates = defaultdict(int, {k: v for k, v in self.templates.items() if v > 1})
        self.crawler.stats.inc_value("trap/pruned")

    def _drop(self, request: Request, why: str) -> None:
        self.crawler.stats.inc_value(f"trap/dropped/{why}")
        log.debug("trap guard (%s): dropping %s", why, request.url)

    def get_processed_request(self, request: Request, response: Response | None
                              ) -> Request | None:
        if request.meta.get("dont_trap_check"):
            return request
        u = urlparse_cached(request)
        host, path = u.hostname or "", u.path or "/"
        segs = [s for s in path.split("/") if s]
        if self.max_depth and len(segs) > self.max_depth:
            self._drop(request, "depth")
            return None
        if segs and max(segs.count(s) for s in segs) >= 3:
            self._drop(request, "repeat")
            return None
        if self.future_days:
            for m in _DATE_PATH.finditer(path):
                y, mo = int(m.group(1)), int(m.group(2) or 1)
                months_ahead = (y - self.today.tm_year) * 12 + mo - self.today.tm_mon
                if months_ahead * 30.4 > self.future_days or y < 1990:
                    self._drop(request, "calendar")
                    return None
        if self.calendar_max and _DATE_ONLY.search(path):
            key = hash((host, "calendar:" + _DIGITS.sub("0", path)))
            self.templates[key] += 1
            if self.templates[key] > self.calendar_max:
                self._drop(request, "calendar")
                return None
        if self.template_max:
            shape = _DIGITS.sub("0", path + ("?" + u.query if u.query else ""))
            key = hash((host, shape))  # an int: 70 bytes per shape instead of 220
            if len(self.templates) > self.memory:
                self._prune()
            self.templates[key] += 1
            if self.templates[key] > self.template_max:
                self._drop(request, "template")
                return None
        if self.host_max:
            self.hosts[host] += 1
            if self.hosts[host] > self.host_max:
                self._drop(request, "host_budget")
                return None
        return request


# --------------------------------------------------------------------------------------
# Scheduler queue
# --------------------------------------------------------------------------------------


class PoliteDownloaderAwarePriorityQueue(DownloaderAwarePriorityQueue):
    """Scrapy's downloader-aware queue that hands out only requests a domain can take now.

    The stock queue prefers the domain with the fewest active downloads but still hands out
    requests for busy domains, which then wait in the downloader (counting against
    ``CONCURRENT_REQUESTS``) behind the domain's concurrency and delay: with a one-second
    delay per site, 256 download slots crawl at most ~250 pages a second and mostly wait.
    Here a request stays in the scheduler until its domain is below its concurrency *and*
    its delay (``DOWNLOAD_DELAY``, or AutoThrottle's) has passed since its last request, so
    the downloader's slots go to requests that can go out, and the crawl widens to more sites
    instead of idling: each site still sees at most ``CONCURRENT_REQUESTS_PER_DOMAIN``
    requests at a time, spaced by its delay.

    Domains are visited round-robin (O(1) per request for any number of open sites). Spiders
    feed new sites lazily with :meth:`wants_more` (at most ``CRAWL_MAX_OPEN_SITES`` with
    queued requests), which keeps memory flat on large crawls. When every queued domain is
    waiting out its delay, the engine is woken when the first one is due (Scrapy's own
    heartbeat is five seconds).
    """

    _by_crawler: weakref.WeakKeyDictionary[Crawler, PoliteDownloaderAwarePriorityQueue] = (
        weakref.WeakKeyDictionary())

    def __init__(self, crawler: Crawler, *args: Any, **kwargs: Any) -> None:
        self._ring: deque[str] = deque()
        self._count = 0
        super().__init__(crawler, *args, **kwargs)
        self._ring.extend(self.pqueues)
        self._count = sum(len(q) for q in self.pqueues.values())
        s = crawler.settings
        self._per_slot = max(1, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1))
        self.max_open = s.getint("CRAWL_MAX_OPEN_SITES", 1000)
        self.min_open = s.getint("CRAWL_MIN_OPEN_SITES", 32)
        self._delay = s.getfloat("DOWNLOAD_DELAY", 0.0)
        # when each domain was last handed out: the downloader registers a request in its
        # slot only after the middlewares ran, so its own bookkeeping lags behind the queue
        self._handed: dict[str, float] = {}
        self.starved = True  # the last pop found no domain ready
        self._wake_at: float | None = None
        self._by_crawler[crawler] = self

    @classmethod
    def of(cls, crawler: Crawler) -> PoliteDownloaderAwarePriorityQueue | None:
        """The queue of a running crawler (None when another queue class is configured)."""
        return cls._by_crawler.get(crawler)

    def wants_more(self) -> bool:
        """Whether a spider should open another site: no queued domain was ready at the last
        pop (or few are open), and fewer than ``CRAWL_MAX_OPEN_SITES`` are open."""
        n = len(self.pqueues)
        return n < self.max_open and (self.starved or n < self.min_open)

    def push(self, request: Request) -> None:
        slot = self._downloader_interface.get_slot_key(request)
        if slot not in self.pqueues:
            self._ring.append(slot)
        super().push(request)
        self._count += 1

    def _wait(self, slot: str, now: float) -> float:
        """Seconds until ``slot`` can take a request (0: now; inf: at its concurrency)."""
        s = self._downloader_interface.downloader.slots.get(slot)
        delay = s.delay if s is not None else self._delay
        handed = self._handed.get(slot)
        if handed is not None and now - handed < delay:
            return delay - (now - handed)
        if s is None:
            return 0.0
        if len(s.active) >= (s.concurrency or self._per_slot):
            return math.inf
        if delay and s.lastseen:
            return max(0.0, delay - (now - s.lastseen))
        return 0.0

    def _ready_slot(self) -> str | None:
        now = time.monotonic()
        soonest = math.inf
        ring = self._ring
        for _ in range(len(ring)):
            slot = ring[0]
            ring.rotate(-1)
            if slot not in self.pqueues:  # emptied meanwhile
                ring.pop()
                continue
            w = self._wait(slot, now)
            if w == 0.0:
                return slot
            soonest = min(soonest, w)
        if soonest < math.inf:
            self._wake_engine(soonest)
        return None

    def _wake_engine(self, after: float) -> None:
        due = time.monotonic() + after
        if self._wake_at is not None and self._wake_at <= due:
            return
        self._wake_at = due
        from twisted.internet import reactor

        def wake() -> None:
            self._wake_at = None
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None and self.pqueues:
                slot.nextcall.schedule()

        reactor.callLater(after + 0.005, wake)  # type: ignore[attr-defined]

    def pop(self) -> Request | None:
        slot = self._ready_slot()
        if slot is None:
            self.starved = True
            return None
        self.starved = False
        now = time.monotonic()
        previous = self._handed.get(slot)
        self._handed[slot] = now
        if len(self._handed) > 4 * self.max_open + 1000:  # forget domains long done
            self._handed = {k: t for k, t in self._handed.items() if now - t < 120}
        queue = self.pqueues[slot]
        request = queue.pop()
        request.meta["_polite_handed"] = (slot, now, previous)
        self._count -= 1
        if len(queue) == 0:
            del self.pqueues[slot]
            queue.close()
            self._ring.pop()  # the slot just rotated to the end
        return request

    def not_sent(self, request: Request) -> None:
        """``request`` never reached its site (the HTTP cache answered it, or a middleware
        dropped it: robots.txt, a page done before a resume), so it does not count against
        the site's delay: an incremental crawl serves most pages from the cache, and spacing
        those by a shared platform's delay made it crawl at two pages a second. The site's
        previous hand-out time is restored."""
        slot, handed, previous = request.meta.pop("_polite_handed", (None, None, None))
        if slot is None or self._handed.get(slot) != handed:
            return  # another request went out for the site since
        if previous is None:
            del self._handed[slot]
        else:
            self._handed[slot] = previous

    def peek(self) -> Request | None:
        now = time.monotonic()
        for slot in self._ring:
            if slot in self.pqueues and self._wait(slot, now) == 0.0:
                return self.pqueues[slot].peek()
        return None

    def close(self) -> dict[str, list[int]]:
        self._ring.clear()
        self._count = 0
        return super().close()

    def __len__(self) -> int:
        return self._count
