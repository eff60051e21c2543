"""crawlers stage: a Scrapy project that turns the web into intent signals.

Public API:

- :func:`run_crawl` runs every spider (company sites, press wire, forum, social stream) for a
  month and publishes ``signals/month=M``; ``propensity crawl --month M [--proxy URL]`` calls
  it, and each spider also runs alone with ``scrapy crawl <name>`` (see ``scrapy.cfg``);
- :class:`Extractor` and :class:`Taxonomy` read intent topics off a page's text or markup,
  from the taxonomy data file ``taxonomy.yaml``;
- :class:`CompanyIndex` resolves a company named on a page to a customer;
- :func:`evaluate` measures a crawl against the sandbox's ``truth/web_traces``.

Nothing is imported eagerly beyond these names' modules' light dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawlers.extract import Extractor, Taxonomy
    from crawlers.quality import evaluate
    from crawlers.resolve import CompanyIndex
    from crawlers.run import CrawlSummary, run_crawl

__all__ = ["CompanyIndex", "CrawlSummary", "Extractor", "Taxonomy", "evaluate", "run_crawl"]

_WHERE = {
    "Extractor": "crawlers.extract", "Taxonomy": "crawlers.extract",
    "CompanyIndex": "crawlers.resolve", "evaluate": "crawlers.quality",
    "CrawlSummary": "crawlers.run", "run_crawl": "crawlers.run",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'crawlers' has no attribute {name!r}")
