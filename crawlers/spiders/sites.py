"""Company sites: robots.txt, sitemaps (with lastmod), the home page, blog, news and jobs.

Start from every customer's domain (``raw/companies`` of the lake, or ``-a domains=a,b``;
``-a shard=i/n`` keeps the domains whose stable hash falls in shard i of n). For each site:

1. ``/robots.txt``: its ``Sitemap:`` lines (default ``/sitemap.xml``); Scrapy's robots
   middleware enforces its rules;
2. the sitemap (index or urlset, gzipped or not): the home page and the article pages (blog
   posts, news items, job posts), each requested with its ``lastmod``;
3. without a usable sitemap, discovery: the home page's links to sections, listings with
   their pagination, RSS/Atom feeds, then the articles they link (depth and trap limits
   apply);
4. the home page yields technology topics (markup and headers); articles yield the topics
   their text states, dated by the page (else the sitemap or feed date).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawlers.config import crawl_lake
from crawlers.extract import feed_date, page_assets, page_content, parse_html
from crawlers.spiders import BaseSpider, lastmod_date, same_site

_JOB = re.compile(r"/(?:careers?|jobs?|vacanc(?:y|ies)|positions?|openings|join-us|"
                  r"work-with-us|stellenangebote|emplois?)/.+", re.I)
_NEWS = re.compile(r"/(?:news|press|newsroom|media|announcements|press-releases|"
                   r"pressemitteilungen|actualites)/.+", re.I)
_BLOG = re.compile(r"/(?:blog|blogs|insights|articles?|stories|posts?|journal|updates|"
                   r"resources)/.+", re.I)
_NOT_ARTICLE = re.compile(r"\.(?:xml|rss|atom|json|pdf|jpe?g|png|gif|svg|zip|docx?|xlsx?)$|"
                          r"/(?:feed|rss|tag|tags|category|categories|author|page|search)(?:/|$)",
                          re.I)
# Pages discovery never follows: forms, accounts, legal boilerplate, static files.
_SKIP = re.compile(r"/(?:contact(?:-us)?|login|log-in|signin|sign-in|signup|register|account|"
                   r"cart|basket|checkout|privacy|cookies?|terms|legal|imprint|impressum|"
                   r"wp-admin|wp-login\.php|cdn-cgi|search)(?:/|$)|\.(?:css|js|png|jpe?g|gif|"
                   r"svg|ico|webp|pdf|zip|mp4|mp3|woff2?)$", re.I)


def url_kind(url: str) -> str | None:
    """``home``, ``job``, ``news`` or ``blog`` for a page worth reading, else None."""
    path = urlparse(url).path or "/"
    if path in ("", "/"):
        return "home"
    if _NOT_ARTICLE.search(path):
        return None
    if _JOB.search(path):
        return "job"
    if _NEWS.search(path):
        return "news"
    if _BLOG.search(path):
        return "blog"
    return None


def shard_of(domain: str, shards: int) -> int:
    """Stable shard of a domain (blake2b of the name), so any machine agrees."""
    h = hashlib.blake2b(domain.lower().encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") % shards


def company_domains(lake_root: str | Path) -> list[str]:
    """Every distinct customer domain of a lake's ``raw/companies``, in table order."""
    from propensity.contracts import COMPANIES
    from propensity.lake import Lake

    col = Lake(lake_root).read(COMPANIES, columns=["domain"]).column("domain").to_pylist()
    seen: set[str] = set()
    out = []
    for d in col:
        d = (d or "").strip().lower().removeprefix("www.")
        if d and d not in seen:
            seen.add(d)
            out.append(d)
    return out


class SitesSpider(BaseSpider):
    """Crawls the customers' own web sites; see the module docstring."""

    name = "sites"
    source = "site"

    def __init__(self, *args: Any, domains: str | None = None, shard: str | None = None,
                 sitemaps: str | bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domains_arg = domains
        self.shard = shard
        self.use_sitemaps = str(sitemaps).lower() not in ("0", "false", "no", "off")

    # -- start ---------------------------------------------------------------------------
    def domains(self) -> list[str]:
        if self.domains_arg:
            p = Path(self.domains_arg)
            raw = p.read_text().split() if p.is_file() else self.domains_arg.split(",")
            doms = [d.strip().lower() for d in raw if d.strip()]
        else:
            doms = company_domains(crawl_lake(self.settings))
        if self.shard:
            i, n = (int(x) for x in self.shard.split("/"))
            doms = [d for d in doms if shard_of(d, n) == i]
        return doms

    async def start(self) -> AsyncIterator[Any]:
        doms = self.domains()
        self.logger.info("company sites to crawl: %d", len(doms))
        for d in doms:
            await self.wait_for_room()
            yield scrapy.Request(f"http://{d}/robots.txt", callback=self.parse_robots,
                                 errback=self.robots_failed, priority=-10,
                                 meta={"site": d, "dont_trap_check": True})

    # -- robots.txt and sitemaps ----------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[Any]:
        site = response.meta["site"]
        sitemaps = [u for u in sitemap_urls_from_robots(response.body, base_url=response.url)
                    if same_site(u, site)]
        yield from self._after_robots(site, sitemaps)

    def robots_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        site = failure.request.meta["site"]
        yield from self._after_robots(site, [])

    def _after_robots(self, site: str, sitemaps: list[str]) -> Iterator[Any]:
        if not self.use_sitemaps:
            yield self._home(site, discover=True)
            return
        for sm in sitemaps or [f"http://{site}/sitemap.xml"]:
            yield scrapy.Request(sm, callback=self.parse_sitemap, errback=self.sitemap_failed,
                                 meta={"site": site, "dont_trap_check": True}, priority=5)

    def sitemap_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        yield self._home(failure.request.meta["site"], discover=True)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        site = response.meta["site"]
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except OSError:
                body = b""
        try:
            sm = Sitemap(body)
        except Exception:  # noqa: BLE001 - a broken sitemap means: discover by links
            sm = None
        if sm is None or sm.type not in ("urlset", "sitemapindex"):
            self.crawler.stats.inc_value("sitemap/unusable")
            yield self._home(site, discover=True)
            return
        if sm.type == "sitemapindex":
            for e in sm:
                loc = e.get("loc")
                if loc and same_site(loc, site):
                    yield scrapy.Request(loc, callback=self.parse_sitemap,
                                         errback=self.sitemap_failed,
                                         meta={"site": site, "dont_trap_check": True})
            return
        entries = [(e["loc"], e.get("lastmod")) for e in sm if e.get("loc")]
        entries.sort(key=lambda e: e[1] or "", reverse=True)  # newest first under the cap
        cap = self.settings.getint("CRAWL_MAX_PAGES_PER_SITE", 1000)
        n, home = 0, False
        for loc, lastmod in entries:
            if not same_site(loc, site):
                continue
            kind = url_kind(loc)
            if kind is None:
                continue
            home = home or kind == "home"
            n += 1
            if n > cap:
                self.crawler.stats.inc_value("sitemap/over_cap")
                break
            yield self._page(loc, site, kind, lastmod)
        self.crawler.stats.inc_value("sitemap/urls", n)
        if not home:
            yield self._home(site, discover=False)

    # -- requests ------------------------------------------------------------------------
    def _page(self, url: str, site: str, kind: str, lastmod: str | None = None,
              discover: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_page, errback=self.on_error,
                              priority=10 if kind == "home" else 0,
                              meta={"site": site, "kind": kind, "lastmod": lastmod,
                                    "discover": discover, "resumable": not discover})

    def _home(self, site: str, discover: bool) -> scrapy.Request:
        return self._page(f"http://{site}/", site, "home", discover=discover)

    # -- pages ---------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        """A home page (technologies) or an article (topics of its text)."""
        meta = response.meta
        site, kind = meta["site"], meta["kind"]
        request_url = response.request.url if response.request else response.url
        if not isinstance(response, HtmlResponse):
            yield self.done(request_url, response.url, kind, 0)
            return
        doc = parse_html(response.text)
        if kind == "home":
            headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1")
                       for k, v in response.headers.items()}
            hits = self.extractor.technologies(page_assets(doc, headers))
            url = response.url
            items = list(self.signals(hits, url, kind, None, domain=site))
            if meta.get("discover"):
                yield from self._discover(response, doc, site)
        else:
            pc = page_content(doc, response.url)
            canonical = pc.canonical if pc.canonical and same_site(pc.canonical, site) else None
            url = canonical or response.url
            published = pc.published or lastmod_date(meta.get("lastmod")) or meta.get("feed_date")
            mask = [n for n in (pc.site_name,) if n]
            hits = self.extractor.topics(pc.title, pc.blocks, kind, mask=mask)
            items = list(self.signals(hits, url, kind, published, domain=site))
        yield from items
        yield self.done(request_url, url, kind, len(items))

    # -- discovery without a sitemap ------------------------------------------------------
    def _discover(self, response: Response, doc: Any, site: str) -> Iterator[Any]:
        """Follow a home page or listing: sections, pagination, feeds and articles."""
        for ln in doc.iter("link"):
            rel = (ln.get("rel") or "").lower()
            typ = (ln.get("type") or "").lower()
            href = ln.get("href")
            if href and rel == "alternate" and ("rss" in typ or "atom" in typ):
                yield scrapy.Request(urljoin(response.url, href), callback=self.parse_feed,
                                     errback=self.on_error, meta={"site": site})
        for a in doc.iter("a"):
            href = a.get("href")
            if not href or href.startswith(("mailto:", "tel:", "javascript:", "#")):
                continue
            url = urljoin(response.url, href).split("#", 1)[0]
            if not same_site(url, site):
                continue
            path = urlparse(url).path or "/"
            kind = url_kind(url)
            if kind in ("job", "news", "blog"):
                yield self._page(url, site, kind, discover=False)
            elif path.endswith((".xml", ".rss", ".atom")) or "/feed" in path:
                yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error,
                                     meta={"site": site})
            elif kind is None and not _SKIP.search(path):
                # any other page of the site may list articles: read it for links only
                # (depth limit and the trap guard keep calendars and the like finite)
                yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                                     meta={"site": site})

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if isinstance(response, HtmlResponse):
            yield from self._discover(response, parse_html(response.text),
                                      response.meta["site"])

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """An RSS or Atom feed of a site: its items' links, dated by the feed."""
        site = response.meta["site"]
        if not isinstance(response, (XmlResponse, TextResponse)):
            return
        sel = scrapy.Selector(text=response.text, type="xml")
        sel.remove_namespaces()
        for it in sel.xpath("//item | //entry"):
            link = it.xpath("link/text()").get() or it.xpath("link/@href").get()
            date = it.xpath("pubDate/text() | published/text() | updated/text()").get()
            if not link:
                continue
            url = urljoin(response.url, link.strip())
            kind = url_kind(url)
            if kind and kind != "home" and same_site(url, site):
                req = self._page(url, site, kind)
                req.meta["feed_date"] = feed_date(date)
                yield req
