"""``propensity sandbox``: generate the synthetic market, serve its web, print the oracle."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from propensity.lake import Lake
from propensity.months import add_months
from propensity.settings import load_settings

app = typer.Typer(help="The synthetic market and web (the embedded default).",
                  no_args_is_help=True)
log = logging.getLogger(__name__)
console = Console(stderr=True)

LakeOpt = typer.Option(None, "--lake", help="lake root (default: settings, $PROPENSITY_LAKE, ./lake)")


@app.command()
def generate(
    companies: int = typer.Option(None, "--companies", help="number of companies"),
    months: int = typer.Option(None, "--months", help="months of history"),
    seed: int = typer.Option(None, "--seed", help="random seed"),
    end_month: str = typer.Option(None, "--end-month", help="last month of history, YYYY-MM"),
    lake: Path = LakeOpt,
) -> None:
    """Write raw/ (companies, partners, subscriptions, ...) and truth/ for a new market."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sandbox.market import generate_market

    settings = load_settings(lake=lake)
    spec = settings.sandbox.model_copy(update={
        k: v for k, v in {"companies": companies, "months": months, "seed": seed,
                          "end_month": end_month}.items() if v is not None})
    spec = type(spec).model_validate(spec.model_dump())
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]market[/] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} months"), TimeElapsedColumn(),
                  console=console, transient=False) as prog:
        task = prog.add_task("companies", total=spec.months)

        def step(month: str) -> None:
            prog.update(task, description=month, completed=prog.tasks[task].completed + 1)

        summary = generate_market(Lake(settings.lake), spec, progress=step)
    log.info("generated %d companies x %d months (seed %d) into %s in %.1fs",
             spec.companies, spec.months, spec.seed, settings.lake, time.perf_counter() - t0)
    for name, n in summary.rows.items():
        log.info("  %-18s %d rows", name, n)
    for p, r in summary.purchase_rate.items():
        log.info("  purchase rate %-15s %.2f%% per eligible customer-month", p, 100 * r)


@app.command()
def serve(
    port: int = typer.Option(8080, "--port", help="port on 127.0.0.1"),
    month: str = typer.Option(None, "--month", help="serve the web as of this month's cut-off "
                              "(default: the month after the market's history, i.e. today)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback)"),
    lake: Path = LakeOpt,
) -> None:
    """Serve the market's web (and act as an HTTP proxy for it) on loopback."""
    from sandbox.market import market_spec
    from sandbox.web.server import run_server

    settings = load_settings(lake=lake)
    spec = market_spec(Lake(settings.lake), settings.sandbox)
    run_server(Path(settings.lake), month or add_months(spec.end_month, 1), spec,
               host=host, port=port)


@app.command()
def oracle(
    month: str = typer.Option(None, "--month", help="last cut-off month (default: the last "
                              "month whose 3-month label window is complete)"),
    span: int = typer.Option(6, "--span", help="number of cut-off months pooled"),
    lake: Path = LakeOpt,
) -> None:
    """Print the oracle's AUC and top-10% capture per product (the models' ceiling)."""
    from propensity import contracts as C
    from sandbox.oracle import oracle_figures

    settings = load_settings(lake=lake)
    lk = Lake(settings.lake)
    have = lk.months(C.PURCHASE_PROBABILITY)
    if not have:
        raise typer.BadParameter(f"no market in {settings.lake}: run `propensity sandbox generate`")
    last = month or add_months(have[-1], -2)
    months = [m for m in (add_months(last, -i) for i in range(span - 1, -1, -1)) if m in have]
    if not months:
        raise typer.BadParameter(f"no cut-off month with a complete 3-month window up to {last}")
    rows = oracle_figures(lk, months)
    t = Table(title=f"Oracle, cut-offs {months[0]}..{months[-1]}, purchases in the next 3 months")
    for col in ("product", "eligible", "positives", "base rate", "AUC", "capture top 10%",
                "best possible"):
        t.add_column(col, justify="right")
    for r in rows:
        best = r.best_capture_top10
        t.add_row(r.product, str(r.eligible), str(r.positives), f"{100 * r.base_rate:.2f}%",
                  f"{r.auc:.3f}", f"{100 * r.capture_top10:.1f}%", f"{100 * best:.1f}%")
    Console().print(t)


@app.command()
def signals(
    start: str = typer.Option(..., "--from", help="first crawl month, YYYY-MM"),
    end: str = typer.Option(None, "--to", help="last crawl month (default: --from)"),
    lake: Path = LakeOpt,
) -> None:
    """Write stand-in signals (what a perfect crawler would have read) for a range of months.

    For sandbox lakes without a crawl: ``signals/month=M`` from the market's web traces
    (:func:`sandbox.signals.write_signals`), one partition per month from --from to --to.
    """
    from propensity.months import month_range
    from sandbox.signals import write_signals

    settings = load_settings(lake=lake)
    lk = Lake(settings.lake)
    from propensity import contracts as C

    if not lk.path(C.WEB_TRACES).exists():
        raise typer.BadParameter(f"no sandbox market in {settings.lake}: run "
                                 "`propensity sandbox generate` first")
    months = month_range(start, end or start)
    if not months:
        raise typer.BadParameter(f"--from {start} is after --to {end}")
    rows = write_signals(lk, months)  # logs each month
    log.info("stand-in signals for %s..%s: %d rows in all", months[0], months[-1],
             sum(rows.values()))
