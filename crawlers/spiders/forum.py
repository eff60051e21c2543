"""The tech forum: topic listings (with pagination) and threads.

A thread's topics are read from its title and opening post, which is where the poster
describes their own situation; replies are other people's. The company is the one the
opening post names (its signature, a "we ... at X" sentence, a domain)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlparse

import scrapy
from lxml.html import HtmlElement
from scrapy.http import HtmlResponse, Response

from crawlers.config import entry_urls
from crawlers.extract import clean_markup, page_content, parse_date, parse_html, published_date
from crawlers.resolve import domains_in
from crawlers.spiders import SHARED_SOURCE_SETTINGS, BaseSpider, next_page_url

_THREAD_PATH = re.compile(r"/(?:t|topic|topics|thread|threads|discussion|discussions|d|"
                          r"questions|q)/[^/]+", re.I)
_NOT_THREAD = re.compile(r"^/(?:u|user|users|members?|profile|c|category|categories|tags?|"
                         r"search|login|signup|register|latest|top|new)(?:/|$)", re.I)
_POST = re.compile(r"(?:^|[\s_-])(?:post|message|topic-post|comment|reply|entry)(?:$|[\s_-])",
                   re.I)
_BODY = re.compile(r"(?:^|[\s_-])(?:cooked|post-body|message-body|post-content|content|"
                   r"body|text|bbcode)(?:$|[\s_-])", re.I)
_SIGNATURE = re.compile(r"(?:^|[\s_-])(?:signature|sig|user-signature)(?:$|[\s_-])", re.I)
_AUTHOR = re.compile(r"(?:^|[\s_-])(?:author|username|user-name|poster|byline)(?:$|[\s_-])",
                     re.I)


def _cls(el: HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


def _text(el: HtmlElement | None) -> str:
    return " ".join(el.text_content().split()) if el is not None else ""


def opening_post(doc: HtmlElement) -> HtmlElement | None:
    """The first post of a thread page (``.post``, ``#post_1``, ``article``...)."""
    for el in doc.iter("div", "article", "section", "li"):
        if _POST.search(_cls(el)) or (el.get("id") or "").lower().startswith("post"):
            return el
    return None


def find(el: HtmlElement, pattern: re.Pattern[str]) -> HtmlElement | None:
    for child in el.iter():
        if child is not el and isinstance(child.tag, str) and pattern.search(_cls(child)):
            return child
    return None


def last_activity(link: scrapy.Selector) -> str | None:
    """The last-activity date a listing shows beside a thread link (its row's ``<time>``,
    a date in a ``title`` attribute, or a date in the row's text), as ``YYYY-MM-DD``.

    It is the thread's ``lastmod``: a thread whose activity date did not change since it
    was stored is not fetched again.
    """
    row = link.xpath("ancestor::tr[1] | ancestor::li[1]")
    if not row:
        return None
    row = row[0]
    for value in (row.css("time::attr(datetime)").getall() + row.css("[title]::attr(title)")
                  .getall() + [" ".join(row.css("::text").getall())]):
        d = parse_date(value)
        if d:
            return d.isoformat()
    return None


class ForumSpider(BaseSpider):
    """Threads of the forum's topic listings; see the module docstring."""

    name = "forum"
    source = "forum"
    custom_settings = dict(SHARED_SOURCE_SETTINGS)

    async def start(self) -> AsyncIterator[Any]:
        for url in entry_urls(self.settings, "forum"):
            await self.wait_for_room()
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                                 meta={"dont_trap_check": True})

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, HtmlResponse):
            return
        host = urlparse(response.url).hostname
        sel = scrapy.Selector(text=clean_markup(response.text))
        n = 0
        for a in sel.css("a.title, a.topic-title, a.thread-title, a[class*=topic], "
                         "a[class*=thread], table a, h2 a, h3 a"):
            href = a.attrib.get("href")
            if not href:
                continue
            url = urljoin(response.url, href).split("#", 1)[0]
            p = urlparse(url)
            if p.hostname != host or _NOT_THREAD.match(p.path or "/"):
                continue
            if not (_THREAD_PATH.search(p.path) or "title" in (a.attrib.get("class") or "")
                    or p.path.startswith("/r/")):
                continue
            n += 1
            yield scrapy.Request(url, callback=self.parse_thread, errback=self.on_error,
                                 meta={"resumable": True, "lastmod": last_activity(a)})
        if not n:
            return  # past the last page
        nxt = sel.css("a[rel=next]::attr(href), link[rel=next]::attr(href)").get()
        for url in {urljoin(response.url, nxt) if nxt else None, next_page_url(response.url)}:
            if url:  # the linked next page, and the ?page=N+1 one in case the link is broken
                yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                                     meta={"dont_trap_check": True})

    def parse_thread(self, response: Response) -> Iterator[Any]:
        request_url = response.request.url if response.request else response.url
        if not isinstance(response, HtmlResponse):
            yield self.done(request_url, response.url, "forum", 0)
            return
        doc = parse_html(response.text)
        h1 = doc.find(".//h1")
        title = _text(h1)
        op = opening_post(doc)
        if op is None:  # not a thread page after all: read it as a plain page
            pc = page_content(doc, response.url)
            title, body, sig, date, links = pc.title, pc.blocks, "", pc.published, []
        else:
            sig = _text(find(op, _SIGNATURE))
            author = _text(find(op, _AUTHOR))
            date = published_date(op, doc.get("lang"))
            body_el = find(op, _BODY)
            body_text = _text(body_el) if body_el is not None else _text(op)
            if body_el is None:
                for part in (sig, author):
                    body_text = body_text.replace(part, " ")
            body = [body_text]
            links = [a.get("href") for a in op.iter("a") if a.get("href")]
        canonical = response.url
        for ln in doc.iter("link"):
            if (ln.get("rel") or "").lower() == "canonical" and ln.get("href"):
                canonical = urljoin(response.url, ln.get("href"))
        host = urlparse(response.url).hostname or ""
        doms = [d for d in [urlparse(urljoin(response.url, h)).hostname or "" for h in links]
                + domains_in(" ".join(body) + " " + sig) if d and host not in d]
        subjects = [s for s in (sig, " ".join(body)) if s]
        hits = self.extractor.topics(title, body, "forum")
        items = list(self.signals(hits, canonical, "forum", date, subjects=subjects,
                                  mention_text=" ".join([title, *body, sig]),
                                  mention_domains=doms))
        yield from items
        yield self.done(request_url, canonical, "forum", len(items))
