"""CLI of the scoring stage: ``propensity score`` and ``propensity monthly``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from propensity.contracts import parse_products
from propensity.lake import Lake
from propensity.settings import load_settings

log = logging.getLogger(__name__)
console = Console(stderr=True)

LakeOpt = typer.Option(None, "--lake", help="lake root (default: settings)")
EngineOpt = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark (local mode "
                         "here; a cluster at scale)")


def _quiet() -> None:
    for name in ("mlflow", "alembic", "urllib3", "git", "py4j"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _cluster_table(clusters: dict[str, dict[str, int]]) -> Table:
    from propensity.contracts import CLUSTERS, NOT_ELIGIBLE

    t = Table(title="customers per cluster")
    t.add_column("product")
    for c in (*CLUSTERS, NOT_ELIGIBLE):
        t.add_column(c, justify="right")
    for p, counts in clusters.items():
        t.add_row(p, *(str(counts.get(c, 0)) for c in (*CLUSTERS, NOT_ELIGIBLE)))
    return t


def score(
    month: str = typer.Option(..., "--month", help="scoring month (YYYY-MM)"),
    engine: str = EngineOpt,
    products: str = typer.Option(None, "--products", help="comma-separated (default: all)"),
    lake: Path = LakeOpt,
) -> None:
    """Score every customer for every product with the champion models (scores/month=M)."""
    from rich.progress import Progress

    from scoring.batch import score_month

    _quiet()
    settings = load_settings(lake=lake)
    prods = parse_products(products) if products else settings.products
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"scoring {month}", total=len(prods))
        rep = score_month(Lake(settings.lake), settings, month, prods, engine,
                          progress=lambda p: bar.advance(task))
    console.print(_cluster_table(rep.clusters))
    console.print(f"{rep.rows:,} scores for {rep.customers:,} customers -> {rep.path} "
                  f"({rep.seconds:.1f}s, engine {engine})")


def monthly(
    month: str = typer.Option(..., "--month", help="the month to run (YYYY-MM)"),
    skip_crawl: bool = typer.Option(False, "--skip-crawl", help="use signals/month=M as is"),
    proxy: str = typer.Option(None, "--proxy", help="HTTP proxy for the crawl"),
    engine: str = EngineOpt,
    products: str = typer.Option(None, "--products", help="comma-separated (default: all)"),
    retrain: bool = typer.Option(True, "--retrain/--no-retrain", help="retrain before scoring"),
    backfill: bool = typer.Option(False, "--backfill-sandbox-signals", help="sandbox lakes: "
                                  "write the perfect-crawler stand-in signals for history "
                                  "months that have no crawl"),
    lake: Path = LakeOpt,
) -> None:
    """The monthly job: crawl, features, retrain, score, publish (safe to rerun)."""
    from scoring.monthly import MonthlyError, run_monthly

    _quiet()
    settings = load_settings(lake=lake)
    prods = parse_products(products) if products else settings.products
    try:
        manifest = run_monthly(Lake(settings.lake), settings, month, skip_crawl=skip_crawl,
                               proxy=proxy, engine=engine, products=prods, retrain=retrain,
                               backfill_sandbox_signals=backfill,
                               step=lambda s: console.rule(f"[bold]{s}"))
    except MonthlyError as exc:
        console.print(f"[red]{exc}[/red]\nThe previously published reports are untouched.")
        raise typer.Exit(code=1) from exc
    console.print(_cluster_table(manifest["counts"]["clusters"]))
    t = manifest["timings_s"]
    console.print(f"published {month}: {manifest['counts']['partners']} partners, "
                  f"{sum(manifest['counts']['report_rows'].values()):,} report rows; "
                  f"timings {t}")
