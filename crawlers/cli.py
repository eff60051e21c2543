"""Command line of the crawlers stage.

``crawl`` is the function the ``propensity`` CLI registers as ``propensity crawl --month M
[--proxy URL]``; :data:`app` is a Typer sub-app with ``crawl``, ``quality`` and ``publish``
(``python -m crawlers --help``). Heavy imports (Scrapy) happen inside the commands.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

app = typer.Typer(help="Crawl the web into intent signals (Scrapy).", no_args_is_help=True)
log = logging.getLogger(__name__)


def _parse_sets(values: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for v in values or []:
        if "=" not in v:
            raise typer.BadParameter(f"expected NAME=VALUE, got {v!r}")
        k, val = v.split("=", 1)
        out[k.strip()] = val
    return out


def crawl(
    month: str = typer.Option(..., "--month", help="month of the signals partition, YYYY-MM"),
    proxy: str | None = typer.Option(None, "--proxy", help="HTTP proxy every request goes "
                                     "through ('none' for a direct crawl; default: settings "
                                     "crawl.proxy, else http://127.0.0.1:8080)"),
    lake: Path | None = typer.Option(None, "--lake", help="lake root (default: settings, "
                                     "$PROPENSITY_LAKE, ./lake)"),
    spiders: str = typer.Option("sites,press,forum,social", "--spiders",
                                help="comma-separated spiders to run"),
    job_dir: Path | None = typer.Option(None, "--job-dir", help="job directory (default: "
                                        "<lake>/crawl_state/jobs/month=M); a killed crawl "
                                        "resumes from it"),
    fresh: bool = typer.Option(False, "--fresh", help="start over instead of resuming"),
    shard: str | None = typer.Option(None, "--shard", help="i/n: crawl only the company "
                                     "domains whose stable hash falls in shard i of n"),
    setting: list[str] = typer.Option([], "--set", "-s", help="Scrapy setting NAME=VALUE "
                                      "(repeatable), e.g. -s DOWNLOAD_DELAY=0.5"),
    publish: bool = typer.Option(True, "--publish/--no-publish", help="write "
                                 "signals/month=M when done (shards: --no-publish, then "
                                 "`python -m crawlers publish`)"),
) -> None:
    """Crawl the web into signals/month=M.

    Company sites, press wire, forum and social stream; a killed crawl resumes when rerun.
    """
    from crawlers.run import run_crawl
    from propensity.settings import load_settings

    settings = load_settings(lake=lake)
    names = [s.strip() for s in spiders.split(",") if s.strip()]
    summary = run_crawl(month, proxy=proxy, lake=settings.lake, spiders=names,
                        job_dir=job_dir, fresh=fresh, settings=_parse_sets(setting),
                        spider_args={"sites": {"shard": shard}} if shard else None,
                        publish=publish)
    if not summary.finished:
        raise typer.Exit(code=1)


app.command("crawl")(crawl)


@app.command()
def quality(
    month: str = typer.Option(..., "--month", help="month of the crawl to measure"),
    lake: Path | None = typer.Option(None, "--lake", help="lake root"),
    proxy: str | None = typer.Option(None, "--proxy", help="proxy used to read robots.txt "
                                     "files missing from the crawl's HTTP cache"),
) -> None:
    """Measure signals/month=M against truth/web_traces (sandbox markets only)."""
    from rich.console import Console

    from crawlers.quality import evaluate
    from propensity.settings import load_settings

    settings = load_settings(lake=lake)
    report = evaluate(settings.lake, month, proxy=proxy)
    Console(width=max(140, Console().width)).print(report.table())


@app.command()
def publish(
    month: str = typer.Option(..., "--month", help="month to publish"),
    lake: Path | None = typer.Option(None, "--lake", help="lake root"),
    job_dir: Path | None = typer.Option(None, "--job-dir", help="job directory"),
) -> None:
    """Write signals/month=M from a job's staging (e.g. after sharded crawls)."""
    from crawlers.run import publish as do_publish
    from propensity.settings import load_settings

    settings = load_settings(lake=lake)
    dest, n = do_publish(month, settings.lake, job_dir)
    log.info("published %d signals to %s", n, dest)


def main() -> None:
    """Entry point of ``python -m crawlers``."""
    from propensity.logs import setup_logging

    setup_logging()
    app()
