"""Rendering of every page of the synthetic web with plain string templates.

Renderers return a :class:`Resp`; the server applies the transport faults (500s, slowness,
charsets, padding) afterwards. Pages carry their date visibly in one of several formats,
in ``<time datetime>`` on most themes and in ``article:published_time`` on some. No page
carries a machine-readable hint of the truth: no topic ids, no flags, no telling classes.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import unicodedata
from html import escape
from typing import NamedTuple
from xml.sax.saxutils import escape as xml_escape

from sandbox import urls
from sandbox.web import text
from sandbox.web.faults import unit
from sandbox.web.index import Page, Site, WebIndex
from sandbox.web.text import Company, rng_for, seed_int

PER_PAGE = 10
FEED_ITEMS = 20
PRESS_PER_PAGE = 50
FORUM_PER_PAGE = 30
POSTS_PER_THREAD_PAGE = 10
SOCIAL_LIMIT = 50
SOCIAL_MAX_LIMIT = 100
MONTHS = text.MONTHS


class Resp(NamedTuple):
    """A rendered response before transport faults."""

    status: int
    body: str | bytes
    ctype: str = "text/html"
    headers: dict[str, str] | None = None
    html: bool = False  # an HTML page, subject to charset and size faults


def esc(s: str) -> str:
    """HTML-escape text content (quotes left alone, as most sites do)."""
    return escape(s, quote=False)


def fmt_date(d: dt.date, fmt: int, country: str = "") -> str:
    """``d`` in one of four visible formats (numeric dates are month-first in the US)."""
    if fmt == 0:
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if fmt == 1:
        if country.upper() == "US":
            return f"{d.month:02d}/{d.day:02d}/{d.year}"
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if fmt == 2:
        return d.isoformat()
    return f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"


def _paras(paragraphs: list[str] | tuple[str, ...]) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in paragraphs)


def _rfc822(d: dt.date, hour: int = 9) -> str:
    return email.utils.format_datetime(dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC))


def _http_date(d: dt.date) -> str:
    return email.utils.format_datetime(dt.datetime(d.year, d.month, d.day, 8, tzinfo=dt.UTC),
                                       usegmt=True)


def _iso(d: dt.date, seconds: int = 9 * 3600) -> str:
    t = dt.datetime(d.year, d.month, d.day) + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _handle(name: str, n: int) -> str:
    first, _, last = name.partition(" ")
    base = unicodedata.normalize("NFKD", (first[:1] + last).lower().replace("ø", "o").replace("ł", "l"))
    ascii_ = "".join(ch for ch in base if ch.isascii() and ch.isalnum()) or "user"
    return f"{ascii_}{n % 100:02d}" if n % 3 else ascii_


# ======================================================================================
# Company sites
# ======================================================================================

_NAV = (("/", "Home"), ("/about", "About"), ("/blog", "Blog"), ("/news", "News"),
        ("/careers", "Careers"), ("/events", "Events"), ("/contact", "Contact"))


class Renderer:
    """Renders pages from a :class:`WebIndex`."""

    def __init__(self, idx: WebIndex) -> None:
        self.idx = idx
        self.plan = idx.plan
        self.seed = idx.seed

    # -------------------------------------------------------------- site chrome
    def _date_html(self, site: Site, d: dt.date) -> str:
        shown = esc(fmt_date(d, site.theme.date_fmt, site.company.country))
        if site.theme.time_tag:
            return f'<time datetime="{d.isoformat()}">{shown}</time>'
        return shown

    def _shell(self, site: Site, title: str, main: str, *, path: str, day: dt.date | None = None,
               head: str = "", body_end: str = "", sidebar: bool = True) -> str:
        th = site.theme
        c = site.company
        name = esc(c.account_name)
        head_parts = [f"<title>{esc(title)}</title>",
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f'<link rel="canonical" href="http://{site.domain}{escape(path)}">']
        if th.generator:
            head_parts.append(f'<meta name="generator" content="{th.generator}">')
        if day is not None and th.meta_time:
            head_parts.append(f'<meta property="article:published_time" content="{_iso(day)}">')
        if "fonts" in th.extras:
            head_parts.append('<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Open+Sans:wght@400;700&display=swap">')
        if "azureedge" in th.extras:
            head_parts.append(f'<link rel="stylesheet" href="https://{urls.slug(self.seed, "cdn", site.domain)}.azureedge.net/css/theme.css">')
        if "site-verification" in th.extras:
            head_parts.append(f'<meta name="google-site-verification" content="{urls.slug(self.seed, "gsv", site.domain, length=20)}">')
        head_parts.append(f"<style>body{{font-family:sans-serif;margin:0}}header,footer{{background:{th.color};color:#fff;padding:1em}}a{{color:{th.color}}}</style>")
        if th.jquery:
            head_parts.append(f'<script src="/wp-includes/js/jquery/jquery.min.js?ver={th.jquery}"></script>'
                              if th.generator and th.generator.startswith("WordPress")
                              else f'<script src="https://code.jquery.com/jquery-{th.jquery}.min.js"></script>')
        if th.analytics:
            head_parts.append(f'<script async src="https://www.googletagmanager.com/gtag/js?id={th.analytics}"></script>'
                              f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','{th.analytics}');</script>")
        if th.cookie == "cookiebot":
            head_parts.append(f'<script id="Cookiebot" src="https://consent.cookiebot.com/uc.js" data-cbid="{urls.slug(self.seed, "cb", site.domain, length=12)}" type="text/javascript" async></script>')
        elif th.cookie == "onetrust":
            head_parts.append('<script src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js" type="text/javascript" charset="UTF-8"></script>')
        head_parts.append(head)
        nav = "".join(f'<li><a href="{href}">{label}</a></li>' for href, label in _NAV)
        side = self._sidebar(site, path) if sidebar else ""
        year0 = site.launched.year
        year1 = (self.idx.cutoff - dt.timedelta(days=1)).year
        years = f"{year0}&ndash;{year1}" if year1 > year0 else str(year1)
        addr = esc(", ".join(x for x in (c.city, c.state, c.postal_code,
                                          text.country_name(c.country, False)) if x))
        extra_footer = ""
        if "webmail-roundcube" in th.extras:
            extra_footer += ' · <a href="https://webmail.hostpoint-mail.net/">Webmail</a>'
        if "youtube" in th.extras:
            extra_footer += ' · <a href="https://www.youtube.com/@' + escape(site.domain.split(".")[0]) + '">YouTube</a>'
        if "maps" in th.extras:
            extra_footer += ' · <a href="https://maps.google.com/?q=' + escape(c.city) + '">Find us</a>'
        foot = f"&copy; {years} {name}. {addr}.{extra_footer}"
        L = th.layout
        nav_items = nav.replace("<li>", '<li class="nav-item">')
        if L == 0:
            body = (f'<div id="page" class="site"><header id="masthead" class="site-header"><div class="site-branding">'
                    f'<p class="site-title"><a href="/" rel="home">{name}</a></p></div>'
                    f'<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">{nav}</ul></nav></header>'
                    f'<div id="content" class="site-content"><main id="main" class="site-main">{main}</main>'
                    f'<aside id="secondary" class="widget-area">{side}</aside></div>'
                    f'<footer id="colophon" class="site-footer"><div class="site-info">{foot}</div></footer></div>')
        elif L == 1:
            body = (f'<nav class="navbar navbar-expand-lg navbar-light"><div class="container"><a class="navbar-brand" href="/">{name}</a>'
                    f'<ul class="navbar-nav ms-auto">{nav_items}</ul></div></nav>'
                    f'<div class="container my-4"><div class="row"><div class="col-md-8">{main}</div>'
                    f'<div class="col-md-4">{side}</div></div></div>'
                    f'<footer class="footer mt-auto py-3"><div class="container"><span class="text-muted">{foot}</span></div></footer>')
        elif L == 2:
            links = " | ".join(f'<a href="{href}">{label}</a>' for href, label in _NAV)
            body = (f'<div class="wrap"><div class="top"><b><a href="/">{name}</a></b><br>{links}</div>'
                    f'<div class="body">{main}</div><div class="side">{side}</div>'
                    f'<div class="bottom"><small>{foot}</small></div></div>')
        else:
            body = (f'<div id="SITE_CONTAINER"><div id="SITE_HEADER"><div class="comp-header"><a href="/" class="font_0">{name}</a></div>'
                    f'<div id="comp-menu"><ul>{nav}</ul></div></div>'
                    f'<div id="PAGES_CONTAINER"><section class="comp-main">{main}</section><section class="comp-side">{side}</section></div>'
                    f'<div id="SITE_FOOTER"><p class="font_9">{foot}</p></div></div>')
        lang = "en-US" if c.country.upper() == "US" else "en"
        return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">{"".join(head_parts)}</head>'
                f"<body>{body}{body_end}</body></html>\n")

    def _sidebar(self, site: Site, path: str) -> str:
        recent = [p for p in site.blog[:4] if p.path != path][:3]
        if not recent:
            return ""
        src = f"http://{site.domain}{path}"
        items = "".join(f'<li><a href="{self.plan.href(src, p.path)}">{esc(self.title(p))}</a></li>'
                        for p in recent)
        return f'<section class="widget"><h2 class="widget-title">Recent posts</h2><ul>{items}</ul></section>'

    # -------------------------------------------------------------- content
    def title(self, page: Page) -> str:
        """The page's title (cached on the page)."""
        if page.title is None:
            page.title = self._content(page)[0]
        return page.title

    def _content(self, page: Page) -> tuple[str, list[str]]:
        """Title and paragraphs of a dated page, from its mentions or filler."""
        kind = page.kind
        if page.mentions:
            title = ""
            paras: list[str] = []
            for m in page.mentions:
                if m.topic not in text.TEMPLATES:
                    continue
                t, ps = text.mention(m.topic, kind, m.variant, m.company, page.day, self.idx.salt)
                title = title or t
                paras.extend(ps)
            if not title:
                title = self._filler(page)[0]
        else:
            title, paras = self._filler(page)
        end = text.closer(kind, page.subject or page.mentions[0].company, page.day, self.seed, page.url)
        if end:
            paras.append(end)
        return title, paras

    def _filler(self, page: Page) -> tuple[str, list[str]]:
        c = page.subject or text.Company("", "", "", 10, "", "", "", "", "", "")
        key = (self.seed, page.url)
        if page.kind == "blog":
            t, b = text.filler(text.FILLER_BLOG, c, page.day, *key)
        elif page.kind in ("news",):
            t, b = text.filler(text.FILLER_NEWS, c, page.day, *key)
        elif page.kind == "job":
            rng = rng_for("job", *key)
            role = rng.choice(text.FILLER_ROLES)
            t, b = role, rng.choice(text.FILLER_JOB_BODY).format_map(
                _slots(c, page.day, rng, role=role))
        elif page.kind == "press":
            extra = {"name": c.account_name, "where": c.city}
            t, b = text.filler(text.FILLER_PRESS, c, page.day, *key, extra=extra)
        elif page.kind == "forum":
            t, b = text.filler(text.FILLER_FORUM, c, page.day, *key)
        else:
            t, b = text.filler(text.FILLER_SOCIAL, c, page.day, *key)
        paras = [b]
        if page.kind in ("blog", "news") and unit(self.seed, "decoy", page.url) < 0.2:
            paras.append(text.decoy(c, page.day, *key))
        return t, paras

    # -------------------------------------------------------------- site routes
    def site(self, site: Site, path: str, query: dict[str, str]) -> Resp:
        """Route a request for ``path`` on a company site."""
        if path == "/":
            return self.home(site)
        if path == "/robots.txt":
            return Resp(200, self.robots(site), "text/plain")
        if path == "/sitemap.xml":
            return Resp(200, self.sitemap(site), "application/xml")
        if path in ("/blog", "/news", "/careers"):
            return self.listing(site, path, query)
        if path == "/news/feed.xml":
            return Resp(200, self.news_feed(site), "application/rss+xml")
        if path == "/about":
            return self.about(site)
        if path == "/contact":
            return self.contact(site)
        if path == "/events":
            return self.events(site)
        if path.startswith("/events/calendar/") and site.trap:
            r = self.calendar(site, path)
            if r is not None:
                return r
        page = site.pages.get(path)
        if page is not None:
            return self.article(site, page)
        return self.not_found(site, path)

    def not_found(self, site: Site, path: str) -> Resp:
        main = ('<h1>Page not found</h1><p>Sorry, the page you were looking for could not be found. '
                'It may have been moved or deleted.</p><p><a href="/">Back to the home page</a></p>')
        return Resp(404, self._shell(site, f"Page not found | {site.company.account_name}", main,
                                     path=path, sidebar=False), html=True)

    def robots(self, site: Site) -> str:
        lines = ["User-agent: *", "Disallow: /wp-admin/", "Allow: /wp-admin/admin-ajax.php"]
        if site.robots_section:
            lines.append(f"Disallow: {site.robots_section}")
        if unit(self.seed, "robots-cart", site.domain) < 0.3:
            lines.append("Disallow: /cart/")
        lines += ["", "User-agent: GPTBot", "Disallow: /", "",
                  f"Sitemap: http://{site.domain}/sitemap.xml", ""]
        return "\n".join(lines)

    def sitemap(self, site: Site) -> str:
        d = site.domain
        newest_blog = site.blog[0].day if site.blog else site.launched
        newest_news = site.news[0].day if site.news else site.launched
        newest_job = site.jobs[0].day if site.jobs else site.launched
        entries = [("/", site.last_change), ("/about", site.launched), ("/contact", site.launched),
                   ("/blog", newest_blog), ("/news", newest_news), ("/careers", newest_job),
                   ("/events", site.launched)]
        entries += [(p.path, p.day) for p in site.blog + site.news + site.jobs]
        body = "".join(f"<url><loc>http://{d}{xml_escape(p)}</loc><lastmod>{day.isoformat()}</lastmod></url>"
                       for p, day in entries)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>\n')

    def news_feed(self, site: Site) -> str:
        c = site.company
        items = []
        for p in site.news[:FEED_ITEMS]:
            title, paras = self._content(p)
            link = f"http://{site.domain}{p.path}"
            desc = paras[0] if paras else ""
            items.append(f"<item><title>{xml_escape(title)}</title><link>{link}</link>"
                         f'<guid isPermaLink="true">{link}</guid><pubDate>{_rfc822(p.day)}</pubDate>'
                         f"<description>{xml_escape(desc)}</description></item>")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>{xml_escape(c.account_name)} news</title><link>http://{site.domain}/news</link>"
                f"<description>News from {xml_escape(c.account_name)}</description>"
                f"<language>en</language>{''.join(items)}</channel></rss>\n")

    def home(self, site: Site) -> Resp:
        c = site.company
        name = esc(c.account_name)
        src = f"http://{site.domain}/"
        latest = sorted(site.blog[:3] + site.news[:3], key=lambda p: (p.day, p.path), reverse=True)[:3]
        items = "".join(f'<li><a href="{self.plan.href(src, p.path)}">{esc(self.title(p))}</a> '
                        f'<span class="date">{self._date_html(site, p.day)}</span></li>' for p in latest)
        highlight = ""
        for m in site.home_mentions:
            if m.topic in text.TEMPLATES:
                t, ps = text.mention(m.topic, "home", m.variant, m.company, site.last_change, self.idx.salt)
                highlight += f'<div class="highlight"><h3>{esc(t)}</h3>{_paras(ps)}</div>'
        head, body_end, headers = [], [], {}
        for topic, variant in site.tech:
            h, b, hd = tech_markup(topic, variant, site.domain, self.seed)
            head.append(h)
            body_end.append(b)
            headers.update(hd)
        intro = (f"{name} is based in {esc(c.city)} and works in "
                 f"{esc(text.lower_first(c.vertical) or 'local services')}. "
                 f"Our team of {c.employees} people works with customers across the region.")
        events_link = '<a href="/events">What\'s on</a>'
        if site.trap:
            ym = self.idx.cutoff
            events_link += f' · <a href="/events/calendar/{ym.year:04d}/{ym.month:02d}">Events calendar</a>'
        main = (f'<section class="hero"><h1>{name}</h1><p class="tagline">{esc(c.vertical)} in {esc(c.city)}</p>'
                f"<p>{intro}</p></section>{highlight}"
                f'<section class="latest"><h2>Latest</h2><ul>{items}</ul>'
                f'<p><a href="/blog">Blog</a> · <a href="/news">News</a> · <a href="/careers">Careers</a> · {events_link}</p></section>')
        html = self._shell(site, f"{c.account_name} | {c.vertical or 'Home'}", main, path="/",
                           head="".join(head), body_end="".join(body_end))
        return Resp(200, html, headers=headers or None, html=True)

    def about(self, site: Site) -> Resp:
        c = site.company
        rng = rng_for("about", self.seed, site.domain)
        people = [text.person_name(rng) for _ in range(3)]
        roles = ("Managing Director", "Operations Manager", "Customer Lead")
        team = "".join(f"<li>{esc(p)} — {r}</li>" for p, r in zip(people, roles, strict=True))
        paras = [f"{c.account_name} is a {text.lower_first(c.industry) or 'services'} company "
                 f"based in {c.city}, working in {text.lower_first(c.vertical) or 'local services'}. "
                 f"We were founded in {site.launched.year - rng.randint(3, 30)} and today employ "
                 f"around {c.employees} people.",
                 "We believe in doing things properly, treating people fairly and being easy to work with."]
        if unit(self.seed, "decoy-about", site.domain) < 0.15:
            paras.append(text.decoy(c, site.launched, self.seed, site.domain, "about"))
        main = f'<h1>About us</h1>{_paras(paras)}<h2>Our team</h2><ul class="team">{team}</ul>'
        return Resp(200, self._shell(site, f"About | {c.account_name}", main, path="/about"), html=True)

    def contact(self, site: Site) -> Resp:
        c = site.company
        n = seed_int(self.seed, "phone", site.domain)
        phone = (f"+1 ({200 + n % 700}) {n // 7 % 900 + 100}-{n // 11 % 9000 + 1000}"
                 if c.country.upper() in ("US", "CA")
                 else f"+{n % 50 + 30} {n // 13 % 900 + 100} {n // 17 % 900000 + 100000}")
        addr = "<br>".join(esc(x) for x in (c.account_name, c.city, c.state, c.postal_code,
                                            text.country_name(c.country, False)) if x)
        main = (f"<h1>Contact us</h1><address>{addr}</address><p>Phone: {phone}<br>"
                f'Email: <a href="mailto:info@{site.domain}">info@{site.domain}</a></p>'
                '<form method="post" action="/contact"><label>Name <input name="name"></label>'
                '<label>Message <textarea name="message"></textarea></label><button>Send</button></form>')
        return Resp(200, self._shell(site, f"Contact | {c.account_name}", main, path="/contact"), html=True)

    def listing(self, site: Site, path: str, query: dict[str, str]) -> Resp:
        try:
            page_no = max(1, int(query.get("page", "1")))
        except ValueError:
            return self.not_found(site, path)
        if path == "/careers":
            items = [p for p in site.jobs if self.idx.job_open(p)]
            heading = "Careers"
        else:
            items = site.blog if path == "/blog" else site.news
            heading = "Blog" if path == "/blog" else "News"
        chunk = items[(page_no - 1) * PER_PAGE: page_no * PER_PAGE]
        if page_no > 1 and not chunk:
            return self.not_found(site, path)
        src = f"http://{site.domain}{path}" + (f"?page={page_no}" if page_no > 1 else "")
        rows = []
        for p in chunk:
            href = self.plan.href(src, p.path)
            where = f" · {esc(site.company.city)}" if p.kind == "job" else ""
            rows.append(f'<li class="entry"><h2><a href="{href}">{esc(self.title(p))}</a></h2>'
                        f'<p class="meta">{self._date_html(site, p.day)}{where}</p></li>')
        if not rows:
            rows.append("<li>There are no open positions at the moment. Please check back soon.</li>"
                        if path == "/careers" else "<li>Nothing here yet.</li>")
        nav = []
        if page_no > 1:
            nav.append(f'<a href="{path}?page={page_no - 1}" rel="prev">Newer</a>')
        if len(items) > page_no * PER_PAGE:
            nav.append(f'<a href="{path}?page={page_no + 1}" rel="next">Older</a>')
        head = ""
        if path == "/news":
            head = f'<link rel="alternate" type="application/rss+xml" title="News" href="http://{site.domain}/news/feed.xml">'
            nav.append('<a href="/news/feed.xml">RSS</a>')
        main = (f'<h1>{heading}</h1><ul class="entries">{"".join(rows)}</ul>'
                f'<div class="pagination">{" ".join(nav)}</div>')
        html = self._shell(site, f"{heading} | {site.company.account_name}", main,
                           path=path if page_no == 1 else f"{path}?page={page_no}", head=head)
        return Resp(200, html, html=True)

    def article(self, site: Site, page: Page) -> Resp:
        th = site.theme
        title, paras = self._content(page)
        page.title = title
        c = site.company
        key = (self.seed, page.url)
        extra = ""
        if page.kind == "job":
            rng = rng_for("job-extra", *key)
            duties = rng.sample(text.FILLER_JOB_DUTIES, 3)
            offer = rng.sample(text.JOB_OFFER, 4)
            loc = ", ".join(x for x in (c.city, c.state) if x)
            status = ('<p class="notice"><strong>This position has been filled.</strong> '
                      "Thank you for your interest.</p>" if not self.idx.job_open(page) else "")
            extra = (f"{status}<h3>Location</h3><p>{esc(loc)}</p><h3>You will</h3><ul>"
                     + "".join(f"<li>{esc(d)}</li>" for d in duties)
                     + "</ul><h3>What we offer</h3><ul>" + "".join(f"<li>{esc(o)}</li>" for o in offer)
                     + f'</ul><p>To apply, send your CV to <a href="mailto:jobs@{site.domain}">jobs@{site.domain}</a>.</p>')
        elif page.kind == "blog" and unit(self.seed, "signoff", page.url) < 0.5:
            extra = f"<p>Questions? Get in touch with the team in {esc(c.city)}.</p>"
        date = self._date_html(site, page.day)
        label = "Posted" if page.kind == "job" else "Published"
        L = th.layout
        body = _paras(paras) + extra
        if L == 0:
            main = (f'<article class="post type-post status-publish"><header class="entry-header">'
                    f'<h1 class="entry-title">{esc(title)}</h1><div class="entry-meta"><span class="posted-on">'
                    f"{label} on {date}</span></div></header><div class=\"entry-content\">{body}</div></article>")
        elif L == 1:
            main = (f'<div class="article"><h1>{esc(title)}</h1><p class="text-muted small">{date}</p>'
                    f"{body}</div>")
        elif L == 2:
            main = f'<h2>{esc(title)}</h2>{body}<p class="meta">{label}: {date}</p>'
        else:
            main = (f'<section class="blog-post"><h1 class="font_0">{esc(title)}</h1>'
                    f'<p class="font_8">{date} · {1 + len(body) // 900} min read</p>{body}</section>')
        html = self._shell(site, f"{title} | {c.account_name}", main, path=page.path, day=page.day)
        return Resp(200, html, headers={"Last-Modified": _http_date(page.day)},
                    html=True)

    def events(self, site: Site) -> Resp:
        c = site.company
        d = self.idx.cutoff
        rng = rng_for("events", self.seed, site.domain, d)
        rows = []
        for _ in range(rng.randint(0, 3)):
            day = d + dt.timedelta(days=rng.randint(3, 80))
            rows.append(f"<li>{esc(rng.choice(text.EVENTS).capitalize())} — "
                        f"{self._date_html(site, day)}, {esc(c.city)}</li>")
        cal = ""
        if site.trap:
            cal = f'<p><a href="/events/calendar/{d.year:04d}/{d.month:02d}">Full events calendar</a></p>'
        main = (f"<h1>Events</h1><ul>{''.join(rows) or '<li>No upcoming events.</li>'}</ul>{cal}")
        return Resp(200, self._shell(site, f"Events | {c.account_name}", main, path="/events"), html=True)

    def calendar(self, site: Site, path: str) -> Resp | None:
        parts = path.rstrip("/").split("/")
        if len(parts) != 5:
            return None
        try:
            year, month = int(parts[3]), int(parts[4])
            first = dt.date(year, month, 1)
        except ValueError:
            return None
        prev_m = (first - dt.timedelta(days=1)).replace(day=1)
        next_m = (first + dt.timedelta(days=32)).replace(day=1)
        rng = rng_for("calendar", self.seed, site.domain, year, month)
        cells = []
        for _ in range(rng.randint(0, 2)):
            day = rng.randint(1, 28)
            cells.append(f"<li>{MONTHS[month - 1]} {day}: {esc(rng.choice(text.EVENTS).capitalize())}</li>")
        main = (f"<h1>Events — {MONTHS[month - 1]} {year}</h1><ul>{''.join(cells) or '<li>No events this month.</li>'}</ul>"
                f'<p><a href="/events/calendar/{prev_m.year:04d}/{prev_m.month:02d}">&laquo; Previous month</a> · '
                f'<a href="/events/calendar/{next_m.year:04d}/{next_m.month:02d}">Next month &raquo;</a></p>')
        return Resp(200, self._shell(site, f"Events calendar | {site.company.account_name}", main,
                                     path=path, sidebar=False), html=True)

    # ==================================================================================
    # Press wire
    # ==================================================================================
    def press(self, path: str, query: dict[str, str]) -> Resp:
        idx = self.idx
        host = idx.press.host
        if path == "/robots.txt":
            return Resp(200, "User-agent: *\nDisallow: /search\n", "text/plain")
        if path == "/feed.xml":
            return self._press_feed(query)
        if path == "/":
            src = f"http://{host}/"
            rows = "".join(
                f'<li><a href="{self.plan.href(src, p.url)}">{esc(self.title(p))}</a> '
                f'<time datetime="{p.day.isoformat()}">{fmt_date(p.day, 0)}</time></li>'
                for p in idx.press.items[:30])
            main = f'<h1>Latest press releases</h1><ul>{rows}</ul><p><a href="/feed.xml">RSS feed</a></p>'
            return Resp(200, _plain_page("PRWireHub — press releases", main), html=True)
        page = idx.press.by_path.get(path)
        if page is None:
            return Resp(404, _plain_page("Not found", "<h1>Release not found</h1>"), html=True)
        return self._release(page)

    def _press_feed(self, query: dict[str, str]) -> Resp:
        host = self.idx.press.host
        try:
            page_no = max(1, int(query.get("page", "1")))
        except ValueError:
            page_no = 1
        items = self.idx.press.items
        chunk = items[(page_no - 1) * PRESS_PER_PAGE: page_no * PRESS_PER_PAGE]
        out = []
        for p in chunk:
            title, paras = self._content(p)
            p.title = title
            out.append(f"<item><title>{xml_escape(title)}</title><link>{p.url}</link>"
                       f'<guid isPermaLink="true">{p.url}</guid><pubDate>{_rfc822(p.day, 13)}</pubDate>'
                       f"<description>{xml_escape(paras[0] if paras else '')}</description></item>")
        nxt = ""
        if len(items) > page_no * PRESS_PER_PAGE:
            nxt = f'<atom:link rel="next" href="http://{host}/feed.xml?page={page_no + 1}"/>'
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
                f"<title>PRWireHub: latest releases</title><link>http://{host}/</link>"
                f'<description>Press releases</description><atom:link rel="self" href="http://{host}/feed.xml?page={page_no}"/>'
                f"{nxt}{''.join(out)}</channel></rss>\n")
        return Resp(200, body, "application/rss+xml")

    def _release(self, page: Page) -> Resp:
        title, paras = self._content(page)
        page.title = title
        companies: list[Company] = []
        for m in page.mentions:
            if m.company not in companies:
                companies.append(m.company)
        if not companies and page.subject is not None:
            companies = [page.subject]
        lead = companies[0] if companies else None
        place = ", ".join(x for x in ((lead.city.upper() if lead else ""),
                                      text.country_name(lead.country, False) if lead else "") if x)
        dateline = f"<strong>{esc(place)}, {fmt_date(page.day, 0)} /PRWireHub/</strong> -- "
        body = ""
        for i, ptxt in enumerate(paras):
            body += f"<p>{dateline if i == 0 else ''}{esc(ptxt)}</p>"
        about = ""
        for c in companies:
            visit = ""
            if c.domain and unit(self.seed, "visit", page.url, c.account_name) < 0.3:
                visit = f" For more information, visit {esc(c.domain)}."
            about += (f"<h3>About {esc(c.account_name)}</h3><p>{esc(c.account_name)} is a "
                      f"{esc(text.lower_first(c.industry) or 'business')} company headquartered in "
                      f"{esc(c.city)}. It employs around {c.employees} people.{visit}</p>")
        rng = rng_for("press-contact", self.seed, page.url)
        contact = text.person_name(rng)
        main = (f'<article class="release"><h1>{esc(title)}</h1>'
                f'<p class="date"><time datetime="{page.day.isoformat()}">{fmt_date(page.day, 0)}</time></p>'
                f"{body}{about}<h3>Media contact</h3><p>{esc(contact)}<br>media relations</p></article>")
        return Resp(200, _plain_page(f"{title} | PRWireHub", main, day=page.day), html=True)

    # ==================================================================================
    # Forum
    # ==================================================================================
    def forum(self, path: str, query: dict[str, str]) -> Resp:
        idx = self.idx
        if path == "/robots.txt":
            return Resp(200, "User-agent: *\nDisallow: /u/\nDisallow: /search\n", "text/plain")
        try:
            page_no = max(1, int(query.get("page", "1")))
        except ValueError:
            page_no = 1
        if path in ("/", "/latest"):
            items = idx.forum.items
            chunk = items[(page_no - 1) * FORUM_PER_PAGE: page_no * FORUM_PER_PAGE]
            if page_no > 1 and not chunk:
                return Resp(404, _plain_page("Not found", "<h1>No more topics</h1>"), html=True)
            src = f"http://{idx.forum.host}/latest?page={page_no}"
            rows = []
            for p in chunk:
                n = len(idx.reply_days(p))
                last = idx.last_activity(p)
                rows.append(f'<tr><td><a class="title" href="{self.plan.href(src, p.path)}">{esc(self.title(p))}</a></td>'
                            f'<td class="replies">{n}</td><td class="activity" title="{last.isoformat()}">{fmt_date(last, 3)}</td></tr>')
            nxt = (f'<a rel="next" href="/latest?page={page_no + 1}">More</a>'
                   if len(items) > page_no * FORUM_PER_PAGE else "")
            main = (f'<h1>Latest topics</h1><table class="topic-list"><tr><th>Topic</th><th>Replies</th>'
                    f"<th>Activity</th></tr>{''.join(rows)}</table>{nxt}")
            return Resp(200, _plain_page("Latest topics - IT Pro Talk", main), html=True)
        page = idx.forum.by_path.get(path)
        if page is None:
            return Resp(404, _plain_page("Not found", "<h1>Topic not found</h1>"), html=True)
        return self._thread(page, page_no)

    def _thread(self, page: Page, page_no: int) -> Resp:
        title, paras = self._content(page)
        page.title = title
        reply_days = self.idx.reply_days(page)
        posts: list[tuple[str, str, dt.date, str, str]] = []  # name, handle, day, body, signature
        rng = rng_for("forum-op", self.seed, page.url)
        op = text.person_name(rng)
        sig = ""
        first, _, last = op.partition(" ")
        if page.mentions:
            names = [m.company.account_name for m in page.mentions]
            body_text = " ".join(paras)
            if not any(n in body_text for n in names) or rng.random() < 0.4:
                sig = f"{first} {last[:1]}., {rng.choice(text.IT_ROLES)} at {names[0]}"
        elif page.subject is not None and rng.random() < 0.5:
            sig = f"{first} {last[:1]}., {rng.choice(text.IT_ROLES)} at {page.subject.account_name}"
        posts.append((op, _handle(op, seed_int(page.url)), page.day, _paras(paras), sig))
        for k, d in enumerate(reply_days):
            r = rng_for("forum-reply", self.seed, page.url, k)
            name = text.person_name(r)
            reply_sig = ""
            if r.random() < 0.15:
                who = text.invented_company(r)
                if who.lower() not in self.idx.customer_names:
                    reply_sig = f"{name.split(' ')[0]}, {r.choice(text.IT_ROLES)} at {who}"
            posts.append((name, _handle(name, seed_int(page.url, k)), d,
                          _paras([r.choice(text.FORUM_REPLIES)]), reply_sig))
        pages = max(1, -(-len(posts) // POSTS_PER_THREAD_PAGE))
        if page_no > pages:
            return Resp(404, _plain_page("Not found", "<h1>Page not found</h1>"), html=True)
        chunk = posts[(page_no - 1) * POSTS_PER_THREAD_PAGE: page_no * POSTS_PER_THREAD_PAGE]
        html_posts = []
        for i, (name, handle, d, body, signature) in enumerate(chunk):
            n = (page_no - 1) * POSTS_PER_THREAD_PAGE + i + 1
            sig_html = f'<div class="signature">-- {esc(signature)}</div>' if signature else ""
            html_posts.append(f'<div class="post" id="post_{n}"><div class="author"><a href="/u/{handle}">{esc(name)}</a></div>'
                              f'<div class="post-date"><time datetime="{d.isoformat()}">{fmt_date(d, 3)}</time></div>'
                              f'<div class="cooked">{body}</div>{sig_html}</div>')
        nav = []
        if page_no > 1:
            nav.append(f'<a rel="prev" href="{page.path}?page={page_no - 1}">Previous page</a>')
        if page_no < pages:
            nav.append(f'<a rel="next" href="{page.path}?page={page_no + 1}">Next page</a>')
        main = (f'<h1 class="topic-title">{esc(title)}</h1>{"".join(html_posts)}'
                f'<div class="pagination">{" ".join(nav)}</div>')
        return Resp(200, _plain_page(f"{title} - IT Pro Talk", main), html=True)

    # ==================================================================================
    # Social
    # ==================================================================================
    def social(self, path: str, query: dict[str, str]) -> Resp:
        idx = self.idx
        if path == "/robots.txt":
            return Resp(200, "User-agent: *\nAllow: /\n", "text/plain")
        if path in ("/v1/posts", "/v1/posts/"):
            return self._posts_api(query)
        if path == "/":
            body = json.dumps({"name": "chirpstream", "endpoints": ["/v1/posts?cursor=&limit=50"]})
            return Resp(200, body, "application/json")
        page = idx.social.by_path.get(path)
        if page is None:
            return Resp(404, json.dumps({"error": "not found"}), "application/json")
        post = self.post_json(page)
        a = post["author"]
        main = (f'<article class="post"><div class="author"><strong>{esc(a["display_name"])}</strong> '
                f'@{esc(a["handle"])}<div class="bio">{esc(a["bio"])}</div></div>'
                f'<p class="text">{esc(post["text"])}</p>'
                f'<time datetime="{post["created_at"]}">{fmt_date(page.day, 3)}</time></article>')
        return Resp(200, _plain_page(f'{a["display_name"]} on Chirpstream', main, day=page.day), html=True)

    def post_json(self, page: Page) -> dict:
        """The API representation of a social post."""
        _, paras = self._content(page)
        txt = " ".join(paras)
        rng = rng_for("social-author", self.seed, page.url)
        name = text.person_name(rng)
        bio = rng.choice(text.SOCIAL_BIOS_GENERIC)
        if page.mentions:
            cname = page.mentions[0].company.account_name
            if cname not in txt or rng.random() < 0.3:
                bio = f"{rng.choice(text.SOCIAL_ROLES)} @ {cname}. {bio}"
        elif rng.random() < 0.5 and page.subject is not None:
            bio = f"{rng.choice(text.SOCIAL_ROLES)} @ {page.subject.account_name}. {bio}"
        secs = self.idx.post_seconds(page)
        return {"id": str(seed_int(self.seed, "post", page.url) % 10**18),
                "url": page.url, "created_at": _iso(page.day, secs),
                "author": {"handle": _handle(name, seed_int(page.url)), "display_name": name,
                           "bio": bio},
                "text": txt}

    def _posts_api(self, query: dict[str, str]) -> Resp:
        items = self.idx.social.items
        try:
            limit = int(query.get("limit", str(SOCIAL_LIMIT)))
        except ValueError:
            return _json_error("limit must be an integer")
        limit = max(1, min(SOCIAL_MAX_LIMIT, limit))
        cursor = query.get("cursor") or ""
        offset = 0
        if cursor:
            decoded = self._decode_cursor(cursor)
            if decoded is None:
                return _json_error("invalid cursor")
            offset = decoded
        chunk = items[offset: offset + limit]
        nxt = self._encode_cursor(offset + limit) if offset + limit < len(items) else None
        body = json.dumps({"data": [self.post_json(p) for p in chunk], "next_cursor": nxt},
                          ensure_ascii=False)
        return Resp(200, body, "application/json")

    def _encode_cursor(self, offset: int) -> str:
        raw = f"{offset}:{urls.slug(self.seed, self.idx.month, offset, length=6)}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode_cursor(self, cursor: str) -> int | None:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            off_s, check = raw.split(":", 1)
            off = int(off_s)
        except (ValueError, UnicodeDecodeError):
            return None
        if off < 0 or check != urls.slug(self.seed, self.idx.month, off, length=6):
            return None
        return off


def _json_error(msg: str) -> Resp:
    return Resp(400, json.dumps({"error": msg}), "application/json")


def _plain_page(title: str, main: str, day: dt.date | None = None) -> str:
    meta = f'<meta property="article:published_time" content="{_iso(day)}">' if day else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>{meta}'
            '<style>body{font-family:Georgia,serif;max-width:50em;margin:auto}</style></head>'
            f'<body><div class="container">{main}</div></body></html>\n')


def _slots(company: Company, day: dt.date, rng, **extra: str) -> text.Slots:  # noqa: ANN001
    s = text.Slots(company, day, rng)
    s.update(extra)
    return s


# ======================================================================================
# Technology hints in markup
# ======================================================================================


def tech_markup(topic: str, variant: int, domain: str, seed: int) -> tuple[str, str, dict[str, str]]:
    """(head markup, body markup, response headers) hinting at one technology of a site."""
    tag = urls.slug(seed, "tech", topic, domain)
    num = seed_int(seed, "tech-num", topic, domain)
    v = variant % 4
    if topic == "tech_competitor_crm":
        if v == 0:
            return ("", f"<script type=\"text/javascript\">piAId = '{num % 900000 + 100000}'; piCId = '{num % 9000 + 1000}';"
                    "(function(){var s=document.createElement('script');s.src='https://pi.pardot.com/pd.js';"
                    "document.getElementsByTagName('head')[0].appendChild(s);})();</script>", {})
        if v == 1:
            return ("", f'<script type="text/javascript" id="hs-script-loader" async defer src="//js.hs-scripts.com/{num % 9000000 + 1000000}.js"></script>', {})
        if v == 2:
            return ("", f'<script type="text/javascript" id="zsiqscript" src="https://salesiq.zoho.com/widget?wc=siq{tag}" defer></script>', {})
        return ("", '<form class="enquiry" action="https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8" method="POST">'
                f'<input type="hidden" name="oid" value="00D{tag.upper()}"><input name="email" placeholder="Email">'
                '<button type="submit">Request a callback</button></form>', {})
    if topic == "tech_competitor_cloud":
        if v == 0:
            return (f'<link rel="stylesheet" href="https://d{tag}.cloudfront.net/assets/site.css">', "", {})
        if v == 1:
            return ("", f'<img class="hero-img" src="https://storage.googleapis.com/{tag}-site/img/hero.jpg" alt="">', {})
        if v == 2:
            return (f'<script src="https://{tag}-assets.s3.amazonaws.com/js/app.js" defer></script>', "", {})
        return (f'<link rel="dns-prefetch" href="//d{tag}.cloudfront.net">', "",
                {"x-amz-cf-pop": "LHR61-C1", "x-amz-cf-id": f"{tag}{num:x}"[:40],
                 "Via": f"1.1 {tag}.cloudfront.net (CloudFront)"})
    if topic == "tech_google_workspace":
        if v == 0:
            return ("", f'<p class="staff"><a href="https://mail.google.com/a/{domain}">Staff login</a></p>', {})
        if v == 1:
            return ("", f'<iframe src="https://calendar.google.com/calendar/embed?src=events%40{domain}&amp;ctz=Europe%2FLondon" style="border:0" width="400" height="300"></iframe>', {})
        if v == 2:
            return ("", f'<p class="staff"><a href="https://sites.google.com/a/{domain}/intranet/">Staff intranet</a></p>', {})
        return ("", f'<p class="staff"><a href="https://accounts.google.com/AccountChooser?hd={domain}&amp;continue=https://mail.google.com/mail/">Staff email</a></p>', {})
    if topic == "tech_onprem_exchange":
        host = ("mail", "webmail", "remote", "exchange")[v]
        path = "/owa/" if v != 1 else "/owa/auth/logon.aspx"
        label = ("Webmail", "Staff webmail", "Remote access", "Outlook Web Access")[v]
        return ("", f'<p class="staff"><a href="https://{host}.{domain}{path}">{label}</a></p>', {})
    return ("", "", {})
