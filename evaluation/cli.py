"""``propensity evaluate --from M1 --to M2``: the Typer command the ``propensity`` CLI mounts.

Also runnable on its own: ``python -m evaluation --from M1 --to M2``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from propensity.contracts import parse_products
from propensity.settings import load_settings

log = logging.getLogger(__name__)
console = Console()


def evaluate(
    start: str = typer.Option(..., "--from", help="first month to replay (YYYY-MM)"),
    end: str = typer.Option(..., "--to", help="last month to replay (YYYY-MM)"),
    products: str = typer.Option(None, "--products", help="comma-separated products "
                                 "(default: all)"),
    mlflow_log: bool = typer.Option(True, "--mlflow/--no-mlflow", help="log the run to MLflow"),
    lake: Path = typer.Option(None, "--lake", help="lake root (default: settings)"),
) -> None:
    """Backtest months, verify the clusters' win rates, measure drift; write the report.

    For each month M from --from to --to: train on cut-offs whose 3-month window closed
    before M, score M, compare with what was bought in the 3 months after. Writes
    <lake>/evaluation/<from>_<to>/index.html with its charts and logs one MLflow run.
    """
    from propensity.lake import Lake
    from propensity.months import parse_month

    for m in (start, end):
        try:
            parse_month(m)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.WARNING)
    settings = load_settings(lake=lake)
    prods = parse_products(products) if products else tuple(settings.products)
    from evaluation.backtest import BacktestError
    from evaluation.run import evaluate as run

    err = Console(stderr=True)
    try:
        with err.status("replaying") as status:
            ev = run(Lake(settings.lake), settings, start, end, prods, log_mlflow=mlflow_log,
                     progress=lambda m: status.update(f"replaying {m}"))
    except BacktestError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    t = Table(title=f"Backtest {start}..{end} (pooled; top-10% capture)")
    for col in ("product", "model AUC", "model capture", "oracle", "firmographic",
                "recent signal", "cluster order"):
        t.add_column(col, justify="right")
    verdict = {c.product: c for c in ev.order_checks}
    for product, d in ev.metrics.groupby("product", sort=True):
        by = d.set_index("scorer")

        def cap(s: str, by=by) -> str:  # noqa: ANN001
            v = by["capture_top10"].get(s, float("nan"))
            return "" if v != v else f"{100 * v:.1f}%"

        auc = by["auc"].get("model", float("nan"))
        c = verdict.get(product)
        t.add_row(product, "" if auc != auc else f"{auc:.3f}", cap("model"), cap("oracle"),
                  cap("firmographic"), cap("recent_signal"),
                  c.status + ("" if c.separated or c.status != "holds" else " (overlap)")
                  if c else "")
    console.print(t)
    for c in ev.order_checks:
        if c.status == "fails":
            o = ev.oracle_check(c.product)
            ref = f" (oracle in the same cluster sizes: {o.verdict})" if o else ""
            outside = ev.outside_note(c.product)
            console.print(f"[red]{c.message}[/red]{ref}" + (f"; {outside}" if outside else ""))
    for f in ev.flags:
        console.print(f"[yellow]drift:[/yellow] {f.message}")
    console.print(f"report: {ev.page}" + (f"  (MLflow run {ev.run_id})" if ev.run_id else ""))


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command()(evaluate)
