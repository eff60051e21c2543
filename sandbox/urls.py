"""Where pages live on the synthetic web.

The market generator decides, for every topic mention, the URL of the page that carries it
(``truth/web_traces.url``); the web server renders whatever is asked at those URLs. Both use
these functions, so the two can never disagree. Slugs are opaque hashes, shaped the same for
pages with a mention and pages without one, so a URL never hints at the truth.
"""

from __future__ import annotations

import datetime as dt
import hashlib

# Page kinds on a company site, and on the three shared sources.
SITE_KINDS: tuple[str, ...] = ("home", "blog", "news", "job")
SOURCE_OF_KIND: dict[str, str] = {
    "home": "site",
    "blog": "site",
    "news": "site",
    "job": "site",
    "press": "press",
    "forum": "forum",
    "social": "social",
}

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def slug(*parts: object, length: int = 8) -> str:
    """A stable base-36 slug from ``parts`` (blake2b), the same shape for every page."""
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    n = int.from_bytes(h, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(_ALPHABET[r])
    return "".join(out)


def home_url(domain: str) -> str:
    return f"http://{domain}/"


def blog_url(domain: str, day: dt.date, s: str) -> str:
    return f"http://{domain}/blog/{day.year:04d}/{day.month:02d}/{s}"


def news_url(domain: str, day: dt.date, s: str) -> str:
    return f"http://{domain}/news/{day.isoformat()}-{s}"


def job_url(domain: str, day: dt.date, s: str) -> str:
    return f"http://{domain}/careers/jobs/{s}"


def press_url(host: str, day: dt.date, s: str) -> str:
    return f"http://{host}/releases/{day.year:04d}/{day.month:02d}/{s}"


def forum_url(host: str, day: dt.date, s: str) -> str:
    return f"http://{host}/t/{s}"


def social_url(host: str, day: dt.date, s: str) -> str:
    return f"http://{host}/p/{s}"


def page_url(kind: str, host: str, day: dt.date, s: str) -> str:
    """URL of a page of ``kind`` (see ``SOURCE_OF_KIND``); ``host`` is the domain or source host."""
    if kind == "home":
        return home_url(host)
    return _BUILDERS[kind](host, day, s)


_BUILDERS = {
    "blog": blog_url,
    "news": news_url,
    "job": job_url,
    "press": press_url,
    "forum": forum_url,
    "social": social_url,
}
