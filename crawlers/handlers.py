"""Download handler: Scrapy's HTTP/1.1 handler with enough kept-alive connections to a proxy.

Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections per pool key, and
through an HTTP proxy every request shares one key (the proxy's host and port): with one
request per site at a time, nearly every request would open a new TCP connection to the
proxy. With ``CRAWL_PROXY`` set, :class:`ProxyPoolHTTP11DownloadHandler` keeps up to
``CRAWL_PROXY_CONNECTIONS`` (default ``CONCURRENT_REQUESTS``) connections to it alive.
Without a proxy nothing changes: one key per site, as Scrapy does.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler

from crawlers.config import crawl_proxy


class ProxyPoolHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler keeping more idle connections to the crawl's proxy."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        s = crawler.settings
        if crawl_proxy(s):
            keep = s.getint("CRAWL_PROXY_CONNECTIONS", 0) or s.getint("CONCURRENT_REQUESTS", 16)
            self._pool.maxPersistentPerHost = max(self._pool.maxPersistentPerHost, keep)
