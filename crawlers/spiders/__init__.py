"""The spiders: company sites, the press wire, the tech forum, the social stream.

A spider only requests and parses: it turns a response into typed items (signals with the
topics :mod:`crawlers.extract` reads, and what entity resolution needs) and into further
requests. Politeness, retries, caching, resolution, validation and storage are elsewhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

import scrapy
from twisted.python.failure import Failure

from crawlers.extract import Extractor, TopicHit, load_taxonomy
from crawlers.items import PageDoneItem, SignalItem
from crawlers.jobs import now_utc
from crawlers.settings import SHARED_PLATFORM_POLITENESS

# Politeness of shared platforms lives with the rest in settings.py.
SHARED_SOURCE_SETTINGS: dict[str, Any] = dict(SHARED_PLATFORM_POLITENESS)


class BaseSpider(scrapy.Spider):
    """What the spiders share: the extractor, lazy start, item building, quiet errbacks."""

    source: str = ""

    def __init__(self, *args: Any, taxonomy: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taxonomy_path = taxonomy
        self._extractor: Extractor | None = None

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            path = self.taxonomy_path or self.settings.get("CRAWL_TAXONOMY")
            self._extractor = Extractor(load_taxonomy(path))
        return self._extractor

    async def wait_for_room(self) -> None:
        """Start requests are yielded lazily: only when the downloader has room and the
        scheduler's polite queue has no site ready (so a new site is opened instead of the
        crawl idling, and no more sites are open than needed: memory stays flat)."""
        from crawlers.middlewares import PoliteDownloaderAwarePriorityQueue

        engine = self.crawler.engine
        queue = PoliteDownloaderAwarePriorityQueue.of(self.crawler)
        while engine is not None and (engine.needs_backout()
                                      or (queue is not None and not queue.wants_more())):
            await asyncio.sleep(0.02)

    def signals(self, hits: Iterable[TopicHit], url: str, page_kind: str,
                published: dt.date | None, domain: str | None = None,
                subjects: Sequence[str] = (), mention_text: str = "",
                mention_domains: Sequence[str] = ()) -> Iterator[SignalItem]:
        """One :class:`SignalItem` per topic hit of a page."""
        observed = now_utc()
        for h in hits:
            yield SignalItem(
                signal_id=None, domain=domain, customer_id=None, source=self.source, url=url,
                published_at=published, observed_at=observed, topic=h.topic,
                product_areas=list(h.product_areas), signal_type=h.signal_type,
                evidence=h.evidence, confidence=h.confidence, page_kind=page_kind,
                subjects=[s for s in subjects if s], mention_text=mention_text,
                mention_domains=list(mention_domains),
            )

    def done(self, request_url: str, canonical: str, page_kind: str, n: int) -> PageDoneItem:
        return PageDoneItem(url=request_url, source=self.source, page_kind=page_kind,
                            canonical=canonical, signals=n)

    def on_error(self, failure: Failure) -> None:
        """Errback: count and log failures; ignored and filtered requests stay quiet."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        req = getattr(failure, "request", None)
        if failure.check(HttpError):
            status = failure.value.response.status
            self.crawler.stats.inc_value(f"errors/http/{status}")
            self.logger.debug("HTTP %s on %s", status, req.url if req else "?")
        elif failure.check(IgnoreRequest):
            return
        else:
            self.crawler.stats.inc_value(f"errors/{failure.type.__name__}")
            self.logger.info("failed %s: %s", req.url if req else "?", failure.getErrorMessage())


def same_site(url: str, site: str) -> bool:
    """Whether ``url`` is on ``site`` (the bare domain, ``www.`` or another subdomain)."""
    host = (urlparse(url).hostname or "").lower().removeprefix("www.")
    site = site.lower().removeprefix("www.")
    return host == site or host.endswith("." + site)


def next_page_url(url: str, param: str = "page") -> str:
    """The URL of the following page of a paginated listing (``?page=N`` -> ``N+1``).

    Listings link their next page, but a broken "next" link would end the walk early; the
    usual ``page`` parameter lets the spider carry on (a page past the end answers 404 or
    lists nothing, which ends it).
    """
    from urllib.parse import parse_qsl, urlencode, urlunparse

    p = urlparse(url)
    q = dict(parse_qsl(p.query, keep_blank_values=True))
    try:
        n = int(q.get(param, "1"))
    except ValueError:
        n = 1
    q[param] = str(n + 1)
    return urlunparse(p._replace(query=urlencode(q)))


def lastmod_date(value: str | None) -> dt.date | None:
    """The date of a sitemap ``lastmod`` (``2026-05-09`` or a full W3C datetime)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
