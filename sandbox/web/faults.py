"""Fault decisions of the synthetic web.

Every decision is a pure function of (seed, what, url) through a keyed hash, so it is the
same on every run, except transient 500s, which also hash the n-th request for a URL (kept in
an in-memory counter) so that a retry can succeed.

- ``not_found``: a share of in-page content links point at pages that do not exist (404).
- ``redirect_chain``: a share of in-page content links go through 2-4 ``/r/<token>`` hops.
- ``server_error``: a share of requests answer 500 (not robots.txt).
- ``slow``: a share of URLs always answer after ``slow_seconds``.
- ``bad_charset``: a share of HTML pages are mislabelled (cp1252 body under a utf-8 header),
  carry no charset anywhere, or declare it only in a ``<meta>`` tag.
- ``oversized``: a share of HTML pages are padded past ``oversized_bytes``.
- ``robots_disallow``: a share of sites disallow a section in robots.txt.
- ``trap``: a share of sites have an endless events calendar.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from propensity.settings import WebFaults

_SCALE = float(1 << 64)

# Charset modes of an HTML page.
CHARSET_OK = 0
CHARSET_MISLABELLED = 1  # header says utf-8, body is cp1252
CHARSET_NONE = 2  # utf-8 body, no charset in header or markup
CHARSET_META_ONLY = 3  # cp1252 body, charset only in <meta>

ROBOTS_SECTIONS = ("/careers/", "/blog/", "/news/", "/private/")
_SLUG_TAIL = re.compile(r"^(.*/(?:\d{4}-\d{2}-\d{2}-)?)([0-9a-z]{8})$")


def unit(*parts: object) -> float:
    """A stable uniform number in [0, 1) from ``parts``."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / _SCALE


def units(n: int, *parts: object) -> tuple[float, ...]:
    """``n`` (<= 8) stable uniform numbers in [0, 1) from one hash of ``parts``."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8 * n).digest()
    return tuple(int.from_bytes(h[8 * i: 8 * i + 8], "big") / _SCALE for i in range(n))


@dataclass
class FaultPlan:
    """Decides which URLs, links and sites misbehave; see the module docstring."""

    faults: WebFaults
    seed: int

    def __post_init__(self) -> None:
        self._requests: dict[str, int] = {}

    # -- per request ------------------------------------------------------------------
    def server_error(self, url: str) -> bool:
        """Whether this request for ``url`` answers 500; counts requests per URL."""
        rate = self.faults.server_error
        if rate <= 0:
            return False
        n = self._requests.get(url, 0)
        if len(self._requests) > 2_000_000:
            self._requests.clear()
        self._requests[url] = n + 1
        return unit(self.seed, "500", url, n) < rate

    def slow(self, url: str) -> bool:
        """Whether ``url`` always answers after ``slow_seconds``."""
        return self.faults.slow > 0 and unit(self.seed, "slow", url) < self.faults.slow

    # -- per page ---------------------------------------------------------------------
    def charset_mode(self, url: str) -> int:
        """One of the ``CHARSET_*`` modes for the HTML page at ``url``."""
        if self.faults.bad_charset <= 0 or unit(self.seed, "charset", url) >= self.faults.bad_charset:
            return CHARSET_OK
        return 1 + int(unit(self.seed, "charset-mode", url) * 3)

    def oversized(self, url: str) -> bool:
        return self.faults.oversized > 0 and unit(self.seed, "big", url) < self.faults.oversized

    # -- per link ---------------------------------------------------------------------
    def href(self, source: str, target: str) -> str:
        """The ``href`` a page at ``source`` uses for the same-host content path ``target``.

        Most links are direct; a ``not_found`` share point to a page that does not exist, and
        a ``redirect_chain`` share go through redirect hops. ``target`` may be absolute.
        """
        f = self.faults
        u = unit(self.seed, "link", source, target)
        if u < f.not_found:
            return dead_link(target, self.seed)
        if u < f.not_found + f.redirect_chain:
            hops = 2 + int(unit(self.seed, "hops", source, target) * 3)
            return redirect_link(target, hops)
        return target

    # -- per site ---------------------------------------------------------------------
    def robots_section(self, domain: str) -> str | None:
        """The section a site's robots.txt disallows, if any."""
        if unit(self.seed, "robots", domain) >= self.faults.robots_disallow:
            return None
        return ROBOTS_SECTIONS[int(unit(self.seed, "robots-section", domain) * len(ROBOTS_SECTIONS))]

    def trap(self, domain: str) -> bool:
        return unit(self.seed, "trap", domain) < self.faults.trap


def dead_link(target: str, seed: int) -> str:
    """A link shaped like ``target`` to a page that does not exist."""
    prefix, absolute = "", target
    if absolute.startswith("http://"):
        i = absolute.find("/", 7)
        prefix, absolute = (absolute[:i], absolute[i:]) if i > 0 else (absolute, "/")
    m = _SLUG_TAIL.match(absolute)
    if m:
        from sandbox.urls import slug

        return prefix + m.group(1) + slug("gone", seed, target)
    return prefix + absolute.rstrip("/") + "-old.html"


def redirect_link(target: str, hops: int) -> str:
    """A ``/r/<token>`` link that redirects ``hops`` times before reaching ``target``."""
    prefix, path = "", target
    if path.startswith("http://"):
        i = path.find("/", 7)
        prefix, path = (path[:i], path[i:]) if i > 0 else (path, "/")
    return f"{prefix}/r/{encode_hop(path, hops)}"


def encode_hop(path: str, hops: int) -> str:
    raw = f"{hops}|{path}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_hop(token: str) -> tuple[int, str] | None:
    """``(remaining hops, target path)`` of a redirect token, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        hops, path = raw.split("|", 1)
        n = int(hops)
    except (ValueError, UnicodeDecodeError):
        return None
    if not path.startswith("/") or not 0 <= n <= 8:
        return None
    return n, path
