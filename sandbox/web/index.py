"""What the synthetic web holds as of a month: companies, their sites and the shared sources.

:class:`WebIndex` is loaded once from the lake. Company sites are built lazily (and cached)
from the traces of their domain plus deterministic filler pages; the press wire, the forum
and the social feed are built at load, since their listings span every company.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from propensity.contracts import COMPANIES, TECH_TOPICS, WEB_TRACES
from propensity.lake import Lake
from propensity.months import month_index, parse_month
from propensity.settings import SandboxSettings
from sandbox import urls
from sandbox.market import market_spec
from sandbox.web.faults import FaultPlan, unit, units
from sandbox.web.text import CITIES, GENERIC_CITIES, Company, invented_company, rng_for

log = logging.getLogger(__name__)

JOB_OPEN_DAYS = 90
_HOST_RE = r"^https?://(?P<host>[^/:]+)(?::\d+)?(?P<path>/?.*)$"
# Expected filler items per site per month, by kind (scaled by the site's activity).
_SITE_FILLER_RATES = (("blog", 0.18), ("news", 0.11), ("job", 0.09))


class Mention(NamedTuple):
    """One topic mention on a page: whose, which topic, which wording."""

    company: Company
    topic: str
    variant: int


@dataclass(slots=True)
class Page:
    """One dated page: a post, news item, job, release, thread or social post."""

    url: str
    path: str
    kind: str
    day: dt.date
    mentions: tuple[Mention, ...] = ()
    subject: Company | None = None  # whose page it is (invented for filler on shared sources)
    replies: int = 0  # forum threads: replies over the thread's life
    span: int = 0  # forum threads: days from the first post to the last reply
    title: str | None = None

    @property
    def filler(self) -> bool:
        return not self.mentions


@dataclass(slots=True)
class Theme:
    """How a site looks: layout, date format and neutral technology."""

    layout: int
    date_fmt: int
    time_tag: bool
    meta_time: bool
    generator: str | None
    jquery: str | None
    analytics: str | None
    cookie: str | None
    extras: tuple[str, ...]
    color: str


@dataclass
class Site:
    """A company site as of the index month."""

    domain: str
    company: Company
    theme: Theme
    launched: dt.date
    pages: dict[str, Page]
    blog: list[Page]
    news: list[Page]
    jobs: list[Page]
    tech: list[tuple[str, int]]
    home_mentions: list[Mention]
    last_change: dt.date
    robots_section: str | None
    trap: bool


@dataclass
class Shared:
    """One shared source (press wire, forum or social feed)."""

    host: str
    items: list[Page] = field(default_factory=list)  # newest first (forum: latest activity)
    by_path: dict[str, Page] = field(default_factory=dict)


_GENERATORS = ("WordPress 6.4.3", "WordPress 6.5.2", "Wix.com Website Builder",
               "Drupal 10 (https://www.drupal.org)", "Squarespace", None, None)
_JQUERY = ("3.7.1", "3.6.0", "1.12.4", None)
_COLORS = ("#1f4e79", "#2e7d32", "#6a1b9a", "#c62828", "#00695c", "#37474f", "#ef6c00")
_EXTRAS = ("fonts", "azureedge", "webmail-roundcube", "site-verification", "youtube", "maps")


class WebIndex:
    """Everything needed to render the web as of ``month``; see the module docstring."""

    def __init__(self, month: str, settings: SandboxSettings, companies: list[Company],
                 site_traces: pa.Table, shared_rows: list[dict]) -> None:
        self.month = month
        self.settings = settings
        self.seed = settings.seed
        self.salt = str(settings.seed)
        self.cutoff = parse_month(month)
        self.plan = FaultPlan(settings.faults, settings.seed)
        self.by_domain: dict[str, Company] = {c.domain: c for c in companies}
        self.by_id: dict[str, Company] = {c.customer_id: c for c in companies}
        self.customer_names = {c.account_name.lower() for c in companies}
        self.month_idx = month_index(month)
        self.filler_start = month_index(settings.end_month) - settings.months + 1 - 12
        self._site_rows = site_traces
        self._site_span: dict[str, tuple[int, int]] = {}
        self._index_site_rows()
        self.press = Shared(settings.press_host)
        self.forum = Shared(settings.forum_host)
        self.social = Shared(settings.social_host)
        self._build_shared(shared_rows)
        self.site = lru_cache(maxsize=50_000)(self._build_site)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, lake_root: Path, month: str, settings: SandboxSettings) -> WebIndex:
        """Read companies and the traces published before ``month`` from the lake at ``lake_root``."""
        t0 = time.perf_counter()
        lake = Lake(lake_root)
        settings = market_spec(lake, settings)  # the generator's seed, hosts and window
        ctab = lake.read(COMPANIES, columns=["customer_id", "account_name", "domain", "employees",
                                             "city", "state", "postal_code", "country",
                                             "industry", "vertical"])
        cols = [ctab.column(n).to_pylist() for n in ctab.column_names]
        companies = [
            Company(cid, name, (dom or "").strip().lower(), int(emp or 0), city or "", state or "",
                    pc_ or "", country or "", ind or "", vert or "")
            for cid, name, dom, emp, city, state, pc_, country, ind, vert in zip(*cols, strict=True)
        ]
        cutoff = parse_month(month)
        ttab = lake.read(WEB_TRACES, columns=["customer_id", "topic", "url", "published_at",
                                              "source", "page_kind", "variant"])
        ttab = ttab.filter(pc.less(ttab["published_at"], pa.scalar(cutoff, pa.date32())))
        is_site = pc.equal(ttab["source"], "site")
        site_rows = ttab.filter(is_site)
        shared_rows = ttab.filter(pc.invert(is_site)).to_pylist()
        idx = cls(month, settings, companies, site_rows, shared_rows)
        log.info("web index for %s: %d companies, %d site traces, %d shared traces in %.2fs",
                 month, len(companies), site_rows.num_rows, len(shared_rows),
                 time.perf_counter() - t0)
        return idx

    def _index_site_rows(self) -> None:
        t = self._site_rows
        if t.num_rows == 0:
            return
        parts = pc.extract_regex(t["url"], _HOST_RE)
        host = pc.utf8_lower(pc.struct_field(parts, "host"))
        path = pc.struct_field(parts, "path")
        t = t.append_column("host", host).append_column("path", path).sort_by("host")
        self._site_rows = t
        ree = pc.run_end_encode(t["host"].combine_chunks())
        start = 0
        for h, end in zip(ree.values.to_pylist(), ree.run_ends.to_pylist(), strict=True):
            self._site_span[h] = (start, end)
            start = end

    # ------------------------------------------------------------------ hosts
    def resolve(self, host: str) -> tuple[str, str]:
        """(kind, canonical host) of a request host: kind is site/press/forum/social/alias/''."""
        s = self.settings
        if host == s.press_host:
            return "press", host
        if host == s.forum_host:
            return "forum", host
        if host == s.social_host:
            return "social", host
        if host in self.by_domain or host in self._site_span:
            return "site", host
        alt = host[4:] if host.startswith("www.") else "www." + host
        if alt in self.by_domain or alt in self._site_span:
            return "alias", alt
        return "", host

    @property
    def domains(self) -> list[str]:
        return list(self.by_domain)

    # ------------------------------------------------------------------ sites
    def _build_site(self, domain: str) -> Site | None:
        company = self.by_domain.get(domain)
        rows: list[tuple] = []
        span = self._site_span.get(domain)
        if span is not None:
            sl = self._site_rows.slice(span[0], span[1] - span[0])
            rows = list(zip(*(sl.column(n).to_pylist() for n in
                              ("customer_id", "topic", "url", "path", "published_at",
                               "page_kind", "variant")), strict=True))
        if company is None:
            if not rows:
                return None
            company = self.by_id.get(rows[0][0])
            if company is None:
                return None
        seed = self.seed
        theme = _theme(seed, domain)
        launch_mi = self.filler_start + int(unit(seed, "launch", domain) * 12)
        launched = _month_day(launch_mi, unit(seed, "launch-day", domain))
        pages: dict[str, Page] = {}
        tech: list[tuple[str, int]] = []
        home_mentions: list[Mention] = []
        last = launched
        for cid, topic, url, path, day, kind, variant in rows:
            owner = self.by_id.get(cid, company)
            m = Mention(owner, topic, int(variant))
            last = max(last, day)
            if path in ("", "/"):
                if topic in TECH_TOPICS:
                    tech.append((topic, int(variant)))
                else:
                    home_mentions.append(m)
                continue
            page = pages.get(path)
            if page is None:
                pages[path] = Page(url, path, kind, day, (m,), owner)
            else:
                page.mentions = page.mentions + (m,)
                page.day = min(page.day, day)
        # Filler pages, deterministic per (domain, month, kind).
        activity = 0.4 + 1.2 * unit(seed, "activity", domain)
        for mi in range(max(launch_mi, self.filler_start), self.month_idx):
            draws = units(3, seed, "filler", domain, mi)
            for (kind, rate), u in zip(_SITE_FILLER_RATES, draws, strict=True):
                threshold = rate * activity
                if u >= threshold:
                    continue
                day = _month_day(mi, u / threshold)  # uniform given the draw
                s = urls.slug(seed, domain, mi, kind)
                url = urls.page_url(kind, domain, day, s)
                path = url[len("http://") + len(domain):]
                if path not in pages:
                    pages[path] = Page(url, path, kind, day, (), company)
                    last = max(last, day)
        ordered = sorted(pages.values(), key=lambda p: (p.day, p.path), reverse=True)
        return Site(
            domain=domain, company=company, theme=theme, launched=launched, pages=pages,
            blog=[p for p in ordered if p.kind == "blog"],
            news=[p for p in ordered if p.kind == "news"],
            jobs=[p for p in ordered if p.kind == "job"],
            tech=sorted(set(tech)), home_mentions=home_mentions, last_change=last,
            robots_section=self.plan.robots_section(domain), trap=self.plan.trap(domain),
        )

    def job_open(self, page: Page) -> bool:
        """Whether a job post is still open as of the index month."""
        return (self.cutoff - page.day).days <= JOB_OPEN_DAYS

    # ------------------------------------------------------------------ shared sources
    def _build_shared(self, rows: list[dict]) -> None:
        seed = self.seed
        by_source: dict[str, Shared] = {"press": self.press, "forum": self.forum,
                                        "social": self.social}
        for r in rows:
            kind = r["source"] if r["source"] in by_source else r["page_kind"]
            shared = by_source.get(kind)
            company = self.by_id.get(r["customer_id"])
            if shared is None or company is None:
                continue
            url = r["url"]
            path = url.split("://", 1)[-1]
            path = path[path.find("/"):] if "/" in path else "/"
            page = shared.by_path.get(path)
            m = Mention(company, r["topic"], int(r["variant"]))
            if page is None:
                shared.by_path[path] = Page(url, path, kind, r["published_at"], (m,), company)
            else:
                page.mentions = page.mentions + (m,)
                page.day = min(page.day, r["published_at"])
        n = len(self.by_id)
        volumes = {"press": min(300, max(10, n // 100)), "forum": min(400, max(15, n // 80)),
                   "social": min(600, max(20, n // 50))}
        for name, shared in by_source.items():
            builder = {"press": urls.press_url, "forum": urls.forum_url,
                       "social": urls.social_url}[name]
            per_month = volumes[name]
            for mi in range(self.filler_start, self.month_idx):
                for j in range(per_month):
                    keep, when = units(2, seed, name, "filler", mi, j)
                    if keep >= 0.8:
                        continue
                    day = _month_day(mi, when)
                    url = builder(shared.host, day, urls.slug(seed, name, mi, j))
                    path = url[len("http://") + len(shared.host):]
                    if path in shared.by_path:
                        continue
                    shared.by_path[path] = Page(url, path, name, day, (),
                                                self._invented(name, mi, j))
            for page in shared.by_path.values():
                if name == "forum":
                    page.replies = int(unit(seed, "replies", page.path) * 21)
                    page.span = 1 + int(unit(seed, "span", page.path) * 60)
            if name == "forum":
                shared.items = sorted(shared.by_path.values(),
                                      key=lambda p: (self.last_activity(p), p.path), reverse=True)
            elif name == "social":
                shared.items = sorted(shared.by_path.values(),
                                      key=lambda p: (p.day, self.post_seconds(p), p.path),
                                      reverse=True)
            else:
                shared.items = sorted(shared.by_path.values(), key=lambda p: (p.day, p.path),
                                      reverse=True)

    def _invented(self, name: str, mi: int, j: int) -> Company:
        rng = rng_for(self.seed, "invented", name, mi, j)
        for _ in range(8):
            label = invented_company(rng)
            if label.lower() not in self.customer_names:
                break
        country = rng.choice(("US", "GB", "DE", "FR", "CA", "AU", "IE", "NL"))
        city = rng.choice(CITIES.get(country, GENERIC_CITIES))
        domain = re.sub(r"[^a-z0-9]+", "", unicodedata.normalize("NFKD", label.lower())
                        .encode("ascii", "ignore").decode()) + rng.choice((".com", ".co", ".net"))
        industry = rng.choice(("Professional services", "Manufacturing", "Retail", "Health care",
                               "Hospitality", "Construction"))
        return Company("", label, domain, rng.randint(5, 400), city, "", "", country,
                       industry, industry)

    def post_seconds(self, page: Page) -> int:
        """Seconds after midnight at which a social post was written."""
        return int(unit(self.seed, "social-time", page.url) * 86400)

    # ------------------------------------------------------------------ forum helpers
    def reply_days(self, page: Page) -> list[dt.date]:
        """Dates of the replies of a thread visible as of the index month."""
        out = []
        for k in range(page.replies):
            d = page.day + dt.timedelta(days=(page.span * (k + 1)) // max(1, page.replies))
            if d >= self.cutoff:
                break
            out.append(d)
        return out

    def last_activity(self, page: Page) -> dt.date:
        days = self.reply_days(page)
        return days[-1] if days else page.day


def _month_day(mi: int, u: float) -> dt.date:
    """A day of month index ``mi`` picked by ``u`` in [0, 1)."""
    year, month0 = divmod(mi, 12)
    ndays = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, 1 + min(ndays - 1, int(u * ndays)))


def _theme(seed: int, domain: str) -> Theme:
    def pick(options: Iterable, what: str):  # noqa: ANN202
        opts = tuple(options)
        return opts[int(unit(seed, "theme", what, domain) * len(opts))]

    extras = tuple(e for e in _EXTRAS if unit(seed, "extra", e, domain) < 0.2)
    return Theme(
        layout=pick(range(4), "layout"),
        date_fmt=pick(range(4), "date"),
        time_tag=unit(seed, "theme", "time", domain) < 0.8,
        meta_time=unit(seed, "theme", "meta", domain) < 0.5,
        generator=pick(_GENERATORS, "generator"),
        jquery=pick(_JQUERY, "jquery"),
        analytics=(f"G-{urls.slug(seed, 'ga', domain, length=10).upper()}"
                   if unit(seed, "theme", "ga", domain) < 0.6 else None),
        cookie=pick(("cookiebot", "onetrust", None, None), "cookie"),
        extras=extras,
        color=pick(_COLORS, "color"),
    )
