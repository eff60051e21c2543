"""The synthetic web: company sites, a press wire, a forum and a social feed, served on loopback.

``build_app`` / ``run_server`` serve the web as of a month ``M`` from a sandbox lake: only
traces published before the first day of ``M`` are on it, older pages stay (stale pages),
and filler pages appear month by month. The server routes by Host header and also works as
an HTTP proxy (absolute-form request lines), so crawlers use ordinary ``http://`` URLs;
unknown hosts answer 502, CONNECT answers 405, ``http://127.0.0.1:PORT/healthz`` answers 200.

Company site (host = the company's domain)::

    /robots.txt  /sitemap.xml  /  /about  /contact  /events
    /blog?page=N   /blog/YYYY/MM/<slug>          (10 per page, newest first)
    /news?page=N   /news/YYYY-MM-DD-<slug>  /news/feed.xml (RSS 2.0, 20 newest)
    /careers       /careers/jobs/<slug>          (open jobs only in the listing)
    /events/calendar/YYYY/MM                     (the crawler trap, on some sites)
    /r/<token>                                   (redirect hops, on every host)

Job posts older than 90 days are still served (200) with their full text and a "This
position has been filled" notice; the careers listing shows only open jobs, the sitemap
lists every job. ``www.<domain>`` answers 301 to the bare domain (and the reverse).

Press wire: ``/feed.xml?page=N`` (RSS, 50 items, ``atom:link rel="next"``), ``/releases/...``.
Forum: ``/latest?page=N`` (30 threads, latest activity first), ``/t/<slug>?page=N`` (10 posts).
Social: ``/v1/posts?cursor=&limit=50`` (JSON, newest first, opaque ``next_cursor``), ``/p/<slug>``.

Faults are described in :mod:`sandbox.web.faults`; wording in :mod:`sandbox.web.text`.
"""

from __future__ import annotations

from sandbox.web.index import WebIndex
from sandbox.web.server import BackgroundServer, app_from_index, build_app, run_server

__all__ = ["BackgroundServer", "WebIndex", "app_from_index", "build_app", "run_server"]
