"""``python -m crawlers``: the crawlers' Typer app (crawl, quality, publish)."""

from crawlers.cli import main

main()
