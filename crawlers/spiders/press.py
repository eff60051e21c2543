"""The press wire: feed-driven. Walks the RSS/Atom feed (following ``rel="next"`` pages),
fetches every release it lists, and reads the release's topics and the company it is about
(its "About ..." section, its headline, the domains it names)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlparse

import scrapy
from scrapy.http import HtmlResponse, Response

from crawlers.config import entry_urls
from crawlers.extract import feed_date, page_content, parse_html
from crawlers.resolve import domains_in
from crawlers.spiders import SHARED_SOURCE_SETTINGS, BaseSpider, next_page_url

_ABOUT = re.compile(r"^\s*about\s+(.+?)\s*:?\s*$", re.I)
# A headline names its subject before the verb: "Acme Ltd Appoints ...", "Acme Raises ...".
_HEADLINE_VERB = re.compile(
    r"\s+(?:announces?|appoints?|names?|welcomes?|raises?|secures?|closes?|completes?|opens?|"
    r"launches?|expands?|moves?|relocates?|celebrates?|achieves?|wins?|partners?|selects?|"
    r"chooses?|hires?|reports?|confirms?|acquires?|is|has|to|invests?|unveils?|marks?|"
    r"publishes?|receives?|joins?|signs?|adds?|introduces?|completes?|enters?|begins?|"
    r"starts?|reveals?|deploys?|adopts?|migrates?|goes|becomes?|strengthens?)\b", re.I)


def release_subjects(title: str, headings: list[str]) -> list[str]:
    """Who a release is about: its "About X" boilerplate first, then the headline's subject."""
    out = []
    for h in headings:
        m = _ABOUT.match(h)
        if m and len(m.group(1)) > 2:
            out.append(m.group(1))
    m = _HEADLINE_VERB.search(title or "")
    if m and m.start() > 2:
        out.append(title[: m.start()])
    return out


class PressSpider(BaseSpider):
    """Press releases from the wire's feed; see the module docstring."""

    name = "press"
    source = "press"
    custom_settings = dict(SHARED_SOURCE_SETTINGS)

    async def start(self) -> AsyncIterator[Any]:
        for url in entry_urls(self.settings, "press"):
            await self.wait_for_room()
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error,
                                 meta={"dont_trap_check": True})

    def parse_feed(self, response: Response) -> Iterator[Any]:
        sel = scrapy.Selector(text=response.text, type="xml")
        sel.remove_namespaces()
        n = 0
        for it in sel.xpath("//item | //entry"):
            link = it.xpath("link/text()").get() or it.xpath("link/@href").get()
            if not link:
                continue
            n += 1
            date = feed_date(it.xpath("updated/text() | pubDate/text() | published/text()")
                             .get())
            # a release's feed date is its lastmod: an unchanged one is not fetched again
            yield scrapy.Request(urljoin(response.url, link.strip()), callback=self.parse_release,
                                 errback=self.on_error,
                                 meta={"feed_date": date, "resumable": True,
                                       "lastmod": date.isoformat() if date else None})
        if not n:
            return  # past the last page
        nxt = sel.xpath("//link[@rel='next']/@href").get()
        for url in {urljoin(response.url, nxt) if nxt else None, next_page_url(response.url)}:
            if url:  # the linked next page, and the ?page=N+1 one in case the link is broken
                yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error,
                                     meta={"dont_trap_check": True})

    def parse_release(self, response: Response) -> Iterator[Any]:
        request_url = response.request.url if response.request else response.url
        if not isinstance(response, HtmlResponse):
            yield self.done(request_url, response.url, "press", 0)
            return
        doc = parse_html(response.text)
        headings = [" ".join(h.text_content().split()) for h in doc.iter("h2", "h3", "h4")]
        pc = page_content(doc, response.url)
        host = urlparse(response.url).hostname or ""
        subjects = release_subjects(pc.title, headings)
        links = [urlparse(urljoin(response.url, h)).hostname or "" for h, _ in pc.links]
        doms = [d for d in links + domains_in(" ".join(pc.blocks)) if d and host not in d]
        hits = self.extractor.topics(pc.title, pc.blocks, "press", mask=subjects)
        canonical = pc.canonical or response.url
        items = list(self.signals(
            hits, canonical, "press", pc.published or response.meta.get("feed_date"),
            subjects=subjects, mention_text=pc.text, mention_domains=doms))
        yield from items
        yield self.done(request_url, canonical, "press", len(items))
