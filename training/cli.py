"""CLI of the training stage: ``propensity train``, ``propensity experiment``, ``propensity models``."""

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
console = Console()
models_app = typer.Typer(help="The model registry: list, promote and roll back champions.",
                         no_args_is_help=True)

LakeOpt = typer.Option(None, "--lake", help="lake root (default: settings)")


def _quiet_mlflow() -> None:
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.WARNING)


def train(
    month: str = typer.Option(..., "--month", help="the scoring month the models are for (YYYY-MM)"),
    products: str = typer.Option(None, "--products", help="comma-separated products (default: all)"),
    kinds: str = typer.Option("fit,intent", "--kinds", help="fit, intent or both"),
    lake: Path = LakeOpt,
) -> None:
    """Train fit and intent models per product, log them to MLflow, gate the champion."""
    from rich.progress import Progress

    from training.train import train as run

    _quiet_mlflow()
    settings = load_settings(lake=lake)
    prods = parse_products(products) if products else tuple(settings.products)
    kinds_t = tuple(k.strip() for k in kinds.split(",") if k.strip())
    for k in kinds_t:
        if k not in ("fit", "intent"):
            raise typer.BadParameter(f"unknown model kind {k!r}: use fit and/or intent")
    with Progress(console=Console(stderr=True)) as prog:
        task = prog.add_task("training", total=len(prods) * len(kinds_t))
        results = run(Lake(settings.lake), settings, month, prods, kinds_t,
                      progress=lambda p, k: prog.update(task, advance=1, description=f"{p} {k}"))
    t = Table(title=f"Models for {month} (backtest on the latest labelled month)")
    for col in ("product", "kind", "status", "version", "AUC", "top-10% capture", "oracle",
                "vs oracle", "firmographic", "recent signal", "champion"):
        t.add_column(col, justify="right")

    def f(r, k: str, pct: bool = True) -> str:  # noqa: ANN001
        v = r.metrics.get(k)
        return "" if v is None or v != v else (f"{100 * v:.1f}%" if pct else f"{v:.3f}")

    for r in results:
        t.add_row(r.product, r.kind, r.status if r.status == "trained" else f"skipped: {r.reason}",
                  r.version or "", f(r, "auc", False), f(r, "capture_top10"),
                  f(r, "oracle_capture_top10"), f(r, "capture_vs_oracle"),
                  f(r, "baseline_firmographic_capture_top10"),
                  f(r, "baseline_recent_signal_capture_top10"),
                  ("promoted" if r.promoted else "kept") if r.status == "trained" else "")
    console.print(t)


def experiment(
    table: Path = typer.Option(..., "--table", help="CSV or Parquet file"),
    id_col: str = typer.Option(..., "--id", help="id column"),
    label_col: str = typer.Option(..., "--label", help="binary label column"),
    time_col: str = typer.Option(None, "--time-col", help="time column: evaluate by time split"),
    predictions: Path = typer.Option(None, "--predictions", help="write out-of-sample scores here "
                                     "(.csv or .parquet)"),
    folds: int = typer.Option(5, "--folds", help="folds (CV) or time blocks"),
    tune_seconds: float = typer.Option(0, "--tune-seconds", help="Optuna search budget (0: defaults)"),
    lake: Path = LakeOpt,
) -> None:
    """Train and evaluate on any tabular data with a binary label; log to MLflow."""
    from training.experiment import ExperimentInputError, run_experiment

    _quiet_mlflow()
    settings = load_settings(lake=lake)
    try:
        res = run_experiment(table, id_col, label_col, time_col, Path(settings.lake),
                             settings.training.tracking_uri, folds, tune_seconds, settings.seed)
    except ExperimentInputError as exc:
        raise typer.BadParameter(str(exc)) from exc
    t = Table(title=f"{table.name}: out-of-sample ({'time split' if time_col else 'stratified CV'})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k in ("rows", "positives", "base_rate", "auc", "pr_auc", "capture_top10", "brier",
              "auc_fold_std"):
        v = res.metrics.get(k, float("nan"))
        t.add_row(k, f"{v:.4f}" if isinstance(v, float) and v != int(v) else f"{v:g}")
    console.print(t)
    console.print(f"MLflow run {res.run_id}")
    if predictions is not None:
        if predictions.suffix.lower() == ".parquet":
            res.predictions.to_parquet(predictions, index=False)
        else:
            res.predictions.to_csv(predictions, index=False)
        console.print(f"out-of-sample scores: {predictions} ({len(res.predictions)} rows)")


@models_app.command("list")
def list_models(lake: Path = LakeOpt) -> None:
    """Registered models with their versions and champion."""
    from training import tracking as T

    _quiet_mlflow()
    settings = load_settings(lake=lake)
    client = T.use_tracking(settings.lake, settings.training.tracking_uri)
    t = Table(title="Registered models")
    for col in ("model", "versions", "champion", "history"):
        t.add_column(col)
    for rm in client.search_registered_models():
        versions = client.search_model_versions(f"name='{rm.name}'")
        champ = T.get_champion(client, rm.name)
        t.add_row(rm.name, str(len(versions)), champ.version if champ else "-",
                  (rm.tags or {}).get(T.HISTORY_TAG, "[]"))
    console.print(t)


@models_app.command("promote")
def promote(
    product: str = typer.Option(..., "--product"),
    kind: str = typer.Option(..., "--kind", help="fit or intent"),
    version: str = typer.Option(..., "--version"),
    lake: Path = LakeOpt,
) -> None:
    """Move the champion alias to a version by hand."""
    from training import tracking as T

    _quiet_mlflow()
    settings = load_settings(lake=lake)
    client = T.use_tracking(settings.lake, settings.training.tracking_uri)
    name = T.model_name(parse_products(product)[0], kind)
    T.set_champion(client, name, version, "promoted by hand")
    console.print(f"{name}: champion is now version {version}")


@models_app.command("rollback")
def rollback(
    product: str = typer.Option(..., "--product"),
    kind: str = typer.Option(..., "--kind", help="fit or intent"),
    lake: Path = LakeOpt,
) -> None:
    """Return the champion alias to the previous champion."""
    from training import tracking as T

    _quiet_mlflow()
    settings = load_settings(lake=lake)
    client = T.use_tracking(settings.lake, settings.training.tracking_uri)
    name = T.model_name(parse_products(product)[0], kind)
    try:
        v = T.rollback(client, name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"{name}: champion rolled back to version {v}")
