"""Where a crawl's components find its lake, month, proxy, job and entry URLs.

Everything is read from the Scrapy settings (``CRAWL_*``), so ``scrapy crawl`` and the
``propensity crawl`` runner behave the same; a missing value falls back to the project's one
settings object (:func:`propensity.settings.load_settings`), read lazily, never at import.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from crawlers.jobs import JobDir, state_root
from propensity.months import format_month

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from propensity.settings import Settings

DEFAULT_PROXY = "http://127.0.0.1:8080"


@lru_cache(maxsize=1)
def project_settings() -> Settings:
    from propensity.settings import load_settings

    return load_settings()


def crawl_lake(settings: BaseSettings) -> Path:
    """``CRAWL_LAKE``, else the project's lake."""
    v = settings.get("CRAWL_LAKE")
    return Path(v) if v else Path(project_settings().lake)


def crawl_month(settings: BaseSettings) -> str:
    """``CRAWL_MONTH`` (the lake partition), else the current month."""
    return settings.get("CRAWL_MONTH") or format_month(dt.date.today())


def crawl_proxy(settings: BaseSettings) -> str | None:
    """``CRAWL_PROXY``; ``none`` or an empty string means no proxy; default: the project's
    ``crawl.proxy`` or ``http://127.0.0.1:8080`` (the sandbox web)."""
    v = settings.get("CRAWL_PROXY")
    if v is None:
        v = project_settings().crawl.proxy or DEFAULT_PROXY
    v = str(v).strip()
    return None if v.lower() in ("", "none", "off", "direct") else v


def crawl_state_dir(settings: BaseSettings) -> Path:
    """``CRAWL_STATE_DIR``, else ``<lake>/crawl_state`` (HTTP cache, jobs)."""
    v = settings.get("CRAWL_STATE_DIR")
    return Path(v) if v else state_root(crawl_lake(settings))


def crawl_job(settings: BaseSettings) -> JobDir | None:
    """The crawl job (``CRAWL_JOB_DIR``, default under the state dir); None if disabled."""
    v = settings.get("CRAWL_JOB_DIR")
    if v is not None and str(v).lower() in ("", "none", "off"):
        return None
    month = crawl_month(settings)
    path = Path(v) if v else crawl_state_dir(settings) / "jobs" / f"month={month}"
    return JobDir.open(path, month, fresh=settings.getbool("CRAWL_FRESH", False),
                       attach=settings.getbool("CRAWL_JOB_ATTACH", False))


def entry_urls(settings: BaseSettings, kind: str) -> list[str]:
    """Entry URLs of a shared source: ``CRAWL_PRESS_FEEDS``, ``CRAWL_FORUM_INDEXES`` or
    ``CRAWL_SOCIAL_APIS`` (lists), else the project's ``crawl`` settings."""
    key = {"press": "CRAWL_PRESS_FEEDS", "forum": "CRAWL_FORUM_INDEXES",
           "social": "CRAWL_SOCIAL_APIS"}[kind]
    v = settings.getlist(key)
    if v:
        return v
    c = project_settings().crawl
    return list({"press": c.press_feeds, "forum": c.forum_indexes, "social": c.social_apis}[kind])
