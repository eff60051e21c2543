"""Spider callbacks on saved responses: what each parse yields (items and requests)."""

from __future__ import annotations

import datetime as dt

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawlers.items import PageDoneItem, SignalItem
from crawlers.spiders.forum import ForumSpider
from crawlers.spiders.press import PressSpider, release_subjects
from crawlers.spiders.sites import SitesSpider, shard_of, url_kind
from crawlers.spiders.social import SocialSpider
from tests.crawlers.conftest import saved


def spider(cls: type[scrapy.Spider], **kwargs: object) -> scrapy.Spider:
    return cls.from_crawler(get_crawler(cls), **kwargs)


def split(out: list) -> tuple[list[SignalItem], list[PageDoneItem], list[Request]]:
    return ([o for o in out if isinstance(o, SignalItem)],
            [o for o in out if isinstance(o, PageDoneItem)],
            [o for o in out if isinstance(o, Request)])


def test_url_kinds() -> None:
    assert url_kind("http://a.com/") == "home"
    assert url_kind("http://a.com/blog/2025/01/abc") == "blog"
    assert url_kind("http://a.com/news/2025-01-02-abc") == "news"
    assert url_kind("http://a.com/careers/jobs/abc") == "job"
    assert url_kind("http://a.com/news/feed.xml") is None
    assert url_kind("http://a.com/about") is None
    assert url_kind("http://a.com/blog/tag/cloud") is None


def test_shards_are_stable_and_cover_everything() -> None:
    doms = [f"site{i}.example.com" for i in range(200)]
    shards = [shard_of(d, 4) for d in doms]
    assert shards == [shard_of(d, 4) for d in doms]
    assert set(shards) == {0, 1, 2, 3}


def test_robots_then_sitemap_with_lastmod(manifest: dict) -> None:
    sp = spider(SitesSpider, domains="vividstacksystems.de")
    robots = saved("robots.txt", manifest, {"site": "vividstacksystems.de"})
    reqs = list(sp.parse_robots(robots))
    assert [r.url for r in reqs] == ["http://vividstacksystems.de/sitemap.xml"]
    sitemap = saved("sitemap.xml", manifest, {"site": "vividstacksystems.de"})
    pages = list(sp.parse_sitemap(sitemap))
    kinds = {r.meta["kind"] for r in pages}
    assert "home" in kinds and kinds <= {"home", "blog", "news", "job"}
    assert all(r.meta["lastmod"] for r in pages)
    assert all(r.meta["resumable"] for r in pages)
    assert not any(r.url.endswith(("/about", "/contact", "/events")) for r in pages)


def test_site_article_yields_signals_then_done(manifest: dict) -> None:
    sp = spider(SitesSpider)
    name = "blog_windows_server.html"
    resp = saved(name, manifest, {"site": "vividstacksystems.de", "kind": "blog",
                                  "lastmod": "2025-09-01"})
    out = list(sp.parse_page(resp))
    sigs, done, _ = split(out)
    assert out[-1] is done[0]  # the page-done record always comes last
    assert {s.topic for s in sigs} == {t for _, t in manifest[name]["truth"]}
    for s in sigs:
        assert s.source == "site" and s.domain == "vividstacksystems.de"
        assert s.url == manifest[name]["url"] and isinstance(s.published_at, dt.date)
        assert s.product_areas and len(s.evidence) <= 280 and s.observed_at
    assert done[0].signals == len(sigs)


def test_home_page_technologies(manifest: dict) -> None:
    sp = spider(SitesSpider)
    resp = saved("home_crm.html", manifest, {"site": "nguyenandsons.ie", "kind": "home"})
    sigs, done, _ = split(list(sp.parse_page(resp)))
    assert {s.topic for s in sigs} == {"tech_competitor_crm"}
    assert sigs[0].published_at is None and done


def test_discovery_without_sitemap_follows_sections_and_feeds(manifest: dict) -> None:
    sp = spider(SitesSpider)
    resp = saved("home_crm.html", manifest, {"site": "nguyenandsons.ie", "kind": "home",
                                             "discover": True})
    reqs = [r for r in sp.parse_page(resp) if isinstance(r, Request)]
    paths = {r.url.split("nguyenandsons.ie", 1)[1] for r in reqs}
    assert {"/blog", "/news", "/careers"} <= paths
    feed = saved("news_feed.xml", manifest, {"site": "kimhotel.com"})
    items = list(sp.parse_feed(feed))
    assert items and all(r.meta["kind"] == "news" and r.meta["feed_date"] for r in items)


def test_press_feed_and_release(manifest: dict, saved_index) -> None:
    sp = spider(PressSpider)
    out = list(sp.parse_feed(saved("press_feed.xml", manifest)))
    releases = [r for r in out if "/releases/" in r.url]
    nxt = [r for r in out if "feed.xml" in r.url]
    assert len(releases) == 50 and all(r.meta["feed_date"] for r in releases)
    assert all(r.meta["lastmod"] == r.meta["feed_date"].isoformat() for r in releases)
    assert nxt and nxt[0].url.endswith("page=2")
    name = "press_release.html"
    sigs, done, _ = split(list(sp.parse_release(saved(name, manifest))))
    assert {s.topic for s in sigs} == {t for _, t in manifest[name]["truth"]}
    assert sigs[0].subjects and done[0].signals == len(sigs)


def test_release_subjects() -> None:
    assert release_subjects("Acme Ltd Appoints Jo Bloggs as CTO",
                            ["About Acme Ltd", "Media contact"]) == ["Acme Ltd", "Acme Ltd"]


def test_forum_listing_and_thread(manifest: dict) -> None:
    sp = spider(ForumSpider)
    out = list(sp.parse_listing(saved("forum_latest.html", manifest)))
    threads = [r for r in out if r.callback == sp.parse_thread]
    nxt = [r for r in out if r.callback == sp.parse_listing]
    assert len(threads) >= 25 and nxt and nxt[0].url.endswith("?page=2")
    assert all(len(r.meta["lastmod"]) == 10 for r in threads)  # the row's last activity
    name = "forum_thread.html"
    sigs, done, _ = split(list(sp.parse_thread(saved(name, manifest))))
    assert {s.topic for s in sigs} == {t for _, t in manifest[name]["truth"]}
    assert sigs[0].subjects and sigs[0].published_at


def test_social_api_page(manifest: dict) -> None:
    sp = spider(SocialSpider)
    out = list(sp.parse_api(saved("social_posts.json", manifest)))
    sigs, _, reqs = split(out)
    truth = manifest["social_posts.json"]["truth_by_url"]
    got = {(s.url, s.topic) for s in sigs}
    want = {(u, t) for u, pairs in truth.items() for _, t in pairs}
    assert got == want
    assert len(reqs) == 1 and "cursor=" in reqs[0].url and "limit=50" in reqs[0].url


def test_non_html_pages_are_done_without_signals() -> None:
    sp = spider(SitesSpider)
    resp = scrapy.http.TextResponse("http://a.com/blog/x", body=b"%PDF-1.4",
                                    headers={"Content-Type": "application/pdf"},
                                    request=Request("http://a.com/blog/x",
                                                    meta={"site": "a.com", "kind": "blog"}))
    out = list(sp.parse_page(resp))
    assert len(out) == 1 and isinstance(out[0], PageDoneItem)


@pytest.mark.parametrize("html,expect", [
    ('<link rel="canonical" href="http://a.com/blog/canon">', "http://a.com/blog/canon"),
    ('<link rel="canonical" href="http://elsewhere.com/x">', "http://a.com/blog/final"),
    ("", "http://a.com/blog/final"),
])
def test_signals_use_the_canonical_url(html: str, expect: str) -> None:
    sp = spider(SitesSpider)
    body = (f"<html><head>{html}</head><body><article><h1>Goodbye Salesforce</h1>"
            "<p>We are migrating off Salesforce this year.</p></article></body></html>")
    req = Request("http://a.com/r/abc", meta={"site": "a.com", "kind": "blog"})
    resp = HtmlResponse("http://a.com/blog/final", body=body.encode(), encoding="utf-8",
                        request=req)
    sigs, done, _ = split(list(sp.parse_page(resp)))
    assert sigs and all(s.url == expect for s in sigs)
    assert done[0].url == "http://a.com/r/abc" and done[0].canonical == expect


def test_next_page_url() -> None:
    from crawlers.spiders import next_page_url

    assert next_page_url("http://f.net/latest") == "http://f.net/latest?page=2"
    assert next_page_url("http://f.net/latest?page=7&x=1") == "http://f.net/latest?page=8&x=1"
