"""The social stream: a paginated JSON API (newest first, opaque ``next_cursor``).

Each post in the API carries its permalink and full text, so a post's signals are credited
to its permalink without fetching it. The company is the one the post or its author's
profile names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import scrapy
from scrapy.http import Response

from crawlers.config import entry_urls
from crawlers.extract import feed_date
from crawlers.resolve import domains_in
from crawlers.spiders import SHARED_SOURCE_SETTINGS, BaseSpider


def with_params(url: str, **params: Any) -> str:
    """``url`` with query parameters set (others kept)."""
    p = urlparse(url)
    q = dict(parse_qsl(p.query, keep_blank_values=True))
    q.update({k: str(v) for k, v in params.items() if v is not None})
    return urlunparse(p._replace(query=urlencode(q)))


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = d.get(k)
        if v:
            return v
    return None


class SocialSpider(BaseSpider):
    """Posts of the social API; see the module docstring."""

    name = "social"
    source = "social"
    custom_settings = {**SHARED_SOURCE_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                       "DOWNLOAD_DELAY": 0.1}

    async def start(self) -> AsyncIterator[Any]:
        size = self.settings.getint("CRAWL_SOCIAL_PAGE_SIZE", 100)
        for url in entry_urls(self.settings, "social"):
            await self.wait_for_room()
            if size and "limit=" not in url:
                url = with_params(url, limit=size)
            yield scrapy.Request(url, callback=self.parse_api, errback=self.on_error,
                                 meta={"dont_trap_check": True})

    def parse_api(self, response: Response) -> Iterator[Any]:
        try:
            data = response.json()
        except ValueError:
            self.crawler.stats.inc_value("social/bad_json")
            return
        posts = data.get("data") or data.get("items") or data.get("posts") or []
        for post in posts:
            url = _first(post, "url", "permalink", "link")
            text = _first(post, "text", "content", "body") or ""
            if not url or not text:
                continue
            author = post.get("author") or post.get("user") or {}
            bio = " ".join(str(_first(author, "bio", "description") or "").split())
            name = _first(author, "display_name", "name") or ""
            published = feed_date(_first(post, "created_at", "published_at", "date"))
            hits = self.extractor.topics("", [text], "social")
            subjects = [s for s in (text, bio) if s]
            yield from self.signals(hits, url, "social", published, subjects=subjects,
                                    mention_text=" ".join([text, bio, name]),
                                    mention_domains=domains_in(f"{text} {bio}"))
        nxt = _first(data, "next_cursor", "next") or (data.get("meta") or {}).get("next_cursor")
        if nxt and posts:
            url = nxt if str(nxt).startswith("http") else with_params(response.url, cursor=nxt)
            yield scrapy.Request(url, callback=self.parse_api, errback=self.on_error,
                                 meta={"dont_trap_check": True})
