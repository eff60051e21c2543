"""Scrapy settings of the crawlers project: politeness, limits, components.

Politeness and limits live here (STYLE.md: "a spider only parses"). Values are plain
constants: nothing is read or created at import time. Crawl-specific values (lake, month,
proxy, job directory, entry URLs) are ``CRAWL_*`` settings, filled by the ``propensity crawl``
runner or on the command line (``scrapy crawl sites -s CRAWL_MONTH=2026-11``); when absent,
components fall back to the project's settings (:mod:`crawlers.config`).
"""

from __future__ import annotations

BOT_NAME = "propensity"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# -- identity ---------------------------------------------------------------------------
# A real user agent with a contact URL; robots.txt rules are matched on the product token.
USER_AGENT = ("Mozilla/5.0 (compatible; PropensityBot/0.1; "
              "+https://github.com/propensity-platform/propensity/blob/main/crawlers/README.md)")
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "PropensityBot"
ROBOTSTXT_CACHE_SIZE = 2000  # parsed robots.txt files kept in memory (most recent hosts)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}

# -- politeness ---------------------------------------------------------------------------
# Company sites are small: one request at a time per site, at least a second apart,
# slower when the site slows down (AutoThrottle). Shared platforms (press wire, forum,
# social API) override these in their spiders' custom_settings.
CONCURRENT_REQUESTS = 256
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Shared platforms (a press wire, a forum, a social API) are large services built for far more
# load than a small company site, and the whole month's crawl waits for them (thousands of
# releases and threads): their spiders apply these on top (custom_settings). At most ~50
# requests a second; AutoThrottle keeps about four in flight, so a platform answering in
# 200 ms sees ~20 a second, and fewer when it slows down. Lower them per platform with -s.
SHARED_PLATFORM_POLITENESS = {
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_DELAY": 0.02,
    "AUTOTHROTTLE_START_DELAY": 0.02,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
    "DEPTH_LIMIT": 0,  # listings paginate deep; the feeds' ends bound them
    "CRAWL_TRAP_TEMPLATE_MAX": 0,
    "CRAWL_TRAP_CALENDAR_MAX": 0,
    "CRAWL_MAX_REQUESTS_PER_HOST": 0,
}
# Many domains side by side, each politely: see PoliteDownloaderAwarePriorityQueue. A
# request waits in the scheduler, not in the downloader, until its site may take it; the
# crawl opens more sites (at most CRAWL_MAX_OPEN_SITES with queued requests) instead of idling.
SCHEDULER_PRIORITY_QUEUE = "crawlers.middlewares.PoliteDownloaderAwarePriorityQueue"
CRAWL_MAX_OPEN_SITES = 1000
CRAWL_MIN_OPEN_SITES = 32

# -- limits ---------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 0.5  # seconds before the first retry, doubled for each further one
RETRY_BACKOFF_MAX = 10.0
REDIRECT_ENABLED = True
REDIRECT_MAX_TIMES = 5
DEPTH_LIMIT = 8
URLLENGTH_LIMIT = 2048
CRAWL_TRAP_FUTURE_DAYS = 366
CRAWL_TRAP_MAX_DEPTH = 10
CRAWL_TRAP_TEMPLATE_MAX = 60
CRAWL_TRAP_CALENDAR_MAX = 8
CRAWL_MAX_REQUESTS_PER_HOST = 2000
CRAWL_MAX_PAGES_PER_SITE = 1000
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
DNSCACHE_ENABLED = True
REACTOR_THREADPOOL_MAXSIZE = 20

# -- components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.BoundedRobotsTxtMiddleware": 100,
    "crawlers.middlewares.SkipDoneMiddleware": 50,
    "crawlers.middlewares.ProxyMiddleware": 90,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.EncodingFixMiddleware": 580,
    "crawlers.middlewares.WireStatsMiddleware": 950,
    "crawlers.middlewares.NotSentReleaseMiddleware": 960,
}
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawlers.middlewares.RevalidatingAutoThrottle": 0,
}
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.TrapGuardMiddleware": 800,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.ResolvePipeline": 100,
    "crawlers.pipelines.ValidatePipeline": 200,
    "crawlers.pipelines.DedupePipeline": 300,
    "crawlers.pipelines.StorePipeline": 900,
}
# Through a proxy every request shares one connection pool key: keep connections alive.
DOWNLOAD_HANDLERS = {
    "http": "crawlers.handlers.ProxyPoolHTTP11DownloadHandler",
    "https": "crawlers.handlers.ProxyPoolHTTP11DownloadHandler",
}
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawlers.middlewares.RevalidatePolicy"
HTTPCACHE_STORAGE = "crawlers.middlewares.SqliteCacheStorage"
HTTPCACHE_EXPIRATION_SECS = 0
# Pipelines are synchronous: a few item workers per response avoid spawning 100 asyncio
# tasks for every page (Scrapy's default), which cost more CPU than the extraction.
CONCURRENT_ITEMS = 4
# Scrapy checks every callback for "return value in a generator" by re-parsing its source
# (ast) on every response, as bound methods miss its cache: a few % of the crawl's CPU.
WARN_ON_GENERATOR_RETURN_VALUE = False

# -- crawl job -------------------------------------------------------------------------------
CRAWL_STORE_BATCH = 500
CRAWL_STORE_SECONDS = 10.0
CRAWL_PUBLISH = True
CRAWL_TRUST_LASTMOD = True
CRAWL_FRESH = False

LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 30.0
FEED_EXPORT_ENCODING = "utf-8"
