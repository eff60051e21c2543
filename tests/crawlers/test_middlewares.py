"""Middlewares: trap guard, encoding fix, retry backoff, cache policy and storage, proxy."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawlers.middlewares import (
    BackoffRetryMiddleware,
    EncodingFixMiddleware,
    ProxyMiddleware,
    RevalidatePolicy,
    SqliteCacheStorage,
    TrapGuardMiddleware,
    WireStatsMiddleware,
)
from crawlers.spiders.sites import SitesSpider


def crawler(tmp_path: Path, **settings: object):
    c = get_crawler(SitesSpider, {"CRAWL_LAKE": str(tmp_path), "CRAWL_MONTH": "2026-11",
                                  **settings})
    c.spider = SitesSpider.from_crawler(c)
    return c


def test_trap_guard(tmp_path: Path) -> None:
    mw = TrapGuardMiddleware.from_crawler(crawler(tmp_path, CRAWL_TRAP_TEMPLATE_MAX=24,
                                                  CRAWL_TRAP_CALENDAR_MAX=8))
    year = time.gmtime().tm_year
    ok = Request(f"http://a.com/blog/{year - 2}/05/post")
    assert mw.get_processed_request(ok, None) is ok
    assert mw.get_processed_request(Request(f"http://a.com/events/{year + 3}/01"), None) is None
    assert mw.get_processed_request(Request("http://a.com/a/b/a/b/a/x"), None) is None
    assert mw.get_processed_request(Request("http://a.com/" + "/".join("abcdefghijkl")),
                                    None) is None
    # endlessly many pages of one shape (here a day parameter) hit the template budget
    kept = [mw.get_processed_request(Request(f"http://b.com/agenda?day={d}"), None)
            for d in range(36)]
    assert sum(r is not None for r in kept) == 24
    # date-only pages (a calendar or an archive) have a tighter budget
    months = [mw.get_processed_request(Request(f"http://c.com/events/calendar/{year}/{m:02d}"),
                                       None) for m in range(1, 13)]
    assert sum(r is not None for r in months) == 8
    stats = mw.crawler.stats.get_stats()
    assert stats["trap/dropped/calendar"] == 1 + 4 and stats["trap/dropped/template"] == 12


def test_encoding_fix(tmp_path: Path) -> None:
    mw = EncodingFixMiddleware.from_crawler(crawler(tmp_path))
    body = "<html><body><p>Café Lumière – Müller</p></body></html>".encode("cp1252")
    resp = HtmlResponse("http://a.com/", body=body,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    fixed = mw.process_response(Request("http://a.com/"), resp)
    assert "Café Lumière – Müller" in fixed.text
    good = HtmlResponse("http://a.com/", body="<p>Café</p>".encode(),
                        headers={"Content-Type": "text/html; charset=utf-8"})
    assert mw.process_response(Request("http://a.com/"), good) is good
    meta_only = HtmlResponse("http://a.com/", body=b'<meta charset="windows-1252"><p>Caf\xe9</p>')
    assert "Café" in mw.process_response(Request("http://a.com/"), meta_only).text


def test_retry_backs_off(tmp_path: Path) -> None:
    c = crawler(tmp_path, RETRY_BACKOFF_BASE=0.05, RETRY_BACKOFF_MAX=1.0)
    mw = BackoffRetryMiddleware.from_crawler(c)
    req = Request("http://a.com/")

    async def go() -> tuple[object, float]:
        t0 = time.perf_counter()
        out = await mw.process_response(req, Response("http://a.com/", status=503))
        return out, time.perf_counter() - t0

    out, waited = asyncio.run(go())
    assert isinstance(out, Request) and out.meta["retry_times"] == 1
    assert 0.02 <= waited < 1.0
    ok = Response("http://a.com/", status=200)
    assert asyncio.run(mw.process_response(req, ok)) is ok


def test_cache_policy_and_storage(tmp_path: Path) -> None:
    c = crawler(tmp_path)
    policy = RevalidatePolicy(c.settings)
    storage = SqliteCacheStorage(c.settings)
    storage.open_spider(c.spider)
    try:
        req = Request("http://a.com/blog/1", meta={"lastmod": "2026-01-02"})
        resp = HtmlResponse("http://a.com/blog/1", body=b"<p>hello</p>",
                            headers={"ETag": '"abc"', "Content-Type": "text/html"})
        assert policy.should_cache_response(resp, req)
        assert not policy.should_cache_response(Response("http://a.com/x", status=404), req)
        storage.store_response(c.spider, req, resp)
        # same job: served from the cache
        again = Request("http://a.com/blog/1")
        cached = storage.retrieve_response(c.spider, again)
        assert cached is not None and cached.body == b"<p>hello</p>"
        assert policy.is_cached_response_fresh(cached, again)
        # a later job: unchanged lastmod -> cache; otherwise a conditional request
        policy.job_started = time.time() + 1
        same = Request("http://a.com/blog/1", meta={"lastmod": "2026-01-02"})
        storage.retrieve_response(c.spider, same)
        assert policy.is_cached_response_fresh(cached, same)
        changed = Request("http://a.com/blog/1", meta={"lastmod": "2026-02-01"})
        storage.retrieve_response(c.spider, changed)
        assert not policy.is_cached_response_fresh(cached, changed)
        assert changed.headers.get("If-None-Match") == b'"abc"'
        assert policy.is_cached_response_valid(cached, Response(changed.url, status=304),
                                               changed)
        assert policy.is_cached_response_valid(cached, Response(changed.url, status=503),
                                               changed)
        assert not policy.is_cached_response_valid(cached, Response(changed.url, status=200),
                                                   changed)
    finally:
        storage.close_spider(c.spider)
    assert (tmp_path / "crawl_state" / "httpcache.sqlite").exists()


def test_wire_stats_ignore_cache_hits(tmp_path: Path) -> None:
    c = crawler(tmp_path)
    mw = WireStatsMiddleware.from_crawler(c)
    r = Response("http://a.com/", status=304, headers={"ETag": '"x"'})
    mw.process_response(Request("http://a.com/"), r)
    hit = Response("http://a.com/", body=b"x" * 1000, flags=["cached"])
    mw.process_response(Request("http://a.com/"), hit)
    st = c.stats.get_stats()
    assert st["wire/responses"] == 1 and st["wire/status/304"] == 1
    assert st["wire/response_bytes"] < 100


def test_robots_parsers_are_bounded() -> None:
    from twisted.internet.defer import Deferred

    from crawlers.middlewares import _RecentParsers

    p = _RecentParsers(3)
    pending = Deferred()
    p["a"] = pending
    for host in "bcde":
        p[host] = object()
    assert list(p) == ["a", "d", "e"]  # a pending fetch is never evicted
    _ = p["d"]  # a host just used stays
    p["f"] = object()
    assert list(p) == ["a", "d", "f"]


def test_proxy(tmp_path: Path) -> None:
    mw = ProxyMiddleware.from_crawler(crawler(tmp_path, CRAWL_PROXY="http://127.0.0.1:9"))
    req = Request("http://a.com/")
    mw.process_request(req)
    assert req.meta["proxy"] == "http://127.0.0.1:9"
    with pytest.raises(NotConfigured):
        ProxyMiddleware.from_crawler(crawler(tmp_path, CRAWL_PROXY="none"))


def test_polite_queue_hands_out_only_what_a_site_can_take(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from scrapy.squeues import FifoMemoryQueue

    from crawlers.middlewares import PoliteDownloaderAwarePriorityQueue

    c = crawler(tmp_path, DOWNLOAD_DELAY=1.0, CONCURRENT_REQUESTS_PER_DOMAIN=1,
                CRAWL_MAX_OPEN_SITES=3, CRAWL_MIN_OPEN_SITES=1)
    slots: dict[str, SimpleNamespace] = {}
    c.engine = SimpleNamespace(downloader=SimpleNamespace(
        slots=slots, get_slot_key=lambda r: r.url.split("/")[2]))
    q = PoliteDownloaderAwarePriorityQueue(c, FifoMemoryQueue, "")
    assert PoliteDownloaderAwarePriorityQueue.of(c) is q
    for url in ("http://a.com/1", "http://a.com/2", "http://b.com/1"):
        q.push(Request(url))
    assert len(q) == 3
    first, second = q.pop(), q.pop()
    assert {first.url, second.url} == {"http://a.com/1", "http://b.com/1"}
    assert q.pop() is None and q.starved  # a.com waits out its delay
    assert q.wants_more()
    q._handed["a.com"] -= 1.5  # a second and a half later...
    slots["a.com"] = SimpleNamespace(active={object()}, concurrency=1, delay=1.0, lastseen=0)
    assert q.pop() is None  # ...but a.com's request is still downloading
    slots["a.com"].active.clear()
    assert q.pop().url == "http://a.com/2"
    assert len(q) == 0 and not q.pqueues
    for host in "cdef":
        q.push(Request(f"http://{host}.com/"))
    assert not q.wants_more()  # CRAWL_MAX_OPEN_SITES open


def test_autothrottle_lowers_the_delay_on_not_modified(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from crawlers.middlewares import RevalidatingAutoThrottle

    c = crawler(tmp_path, AUTOTHROTTLE_ENABLED=True, DOWNLOAD_DELAY=0.02,
                AUTOTHROTTLE_TARGET_CONCURRENCY=4.0)
    at = RevalidatingAutoThrottle(c)
    at.mindelay, at.maxdelay = 0.02, 30.0
    slot = SimpleNamespace(delay=1.0)
    for _ in range(10):  # fast 304s after one slow page
        at._adjust_delay(slot, 0.005, Response("http://a.com/t/1", status=304))
    assert slot.delay < 0.05
    slot.delay = 1.0
    at._adjust_delay(slot, 0.005, Response("http://a.com/x", status=500))
    assert slot.delay == 1.0  # errors still never speed a site up


def test_requests_that_never_reach_a_site_do_not_hold_its_delay(tmp_path: Path) -> None:
    """A page the HTTP cache answers (most of an incremental crawl) or a middleware drops
    gives the site's delay back: the next request for the site goes out at once."""
    from types import SimpleNamespace

    from scrapy.exceptions import IgnoreRequest
    from scrapy.squeues import FifoMemoryQueue

    from crawlers.middlewares import NotSentReleaseMiddleware, PoliteDownloaderAwarePriorityQueue

    c = crawler(tmp_path, DOWNLOAD_DELAY=1.0, CONCURRENT_REQUESTS_PER_DOMAIN=1)
    c.engine = SimpleNamespace(downloader=SimpleNamespace(
        slots={}, get_slot_key=lambda r: r.url.split("/")[2]))
    q = PoliteDownloaderAwarePriorityQueue(c, FifoMemoryQueue, "")
    mw = NotSentReleaseMiddleware.from_crawler(c)
    for i in range(4):
        q.push(Request(f"http://a.com/{i}"))
    first = q.pop()
    assert q.pop() is None  # a.com waits out its delay
    mw.process_response(first, Response(first.url, body=b"x", flags=["cached"]))
    second = q.pop()
    assert second is not None and second.url == "http://a.com/1"
    mw.process_exception(second, IgnoreRequest("robots.txt"))
    third = q.pop()
    assert third is not None
    mw.process_response(third, Response(third.url, status=304))  # went over the wire
    assert q.pop() is None  # so the delay holds
    mw.process_response(first, Response(first.url, flags=["cached"]))  # released already
    assert q.pop() is None
