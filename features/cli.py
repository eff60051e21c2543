"""``propensity features``: build one month's features (and labels), or write the catalogue.

Mounted by the ``propensity`` CLI as ``app.add_typer(features.cli.app, name="features")``::

    propensity features --month 2026-05 [--engine duckdb|spark] [--lake DIR]
    propensity features catalogue [--out docs/features.md]
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from features.engines import ENGINES

app = typer.Typer(help="Point-in-time features and labels (features/month=M, labels/month=M).",
                  invoke_without_command=True)
log = logging.getLogger(__name__)


@app.callback()
def features(
    ctx: typer.Context,
    month: str = typer.Option(None, "--month", help="cut-off month YYYY-MM (its first instant)"),
    engine: str = typer.Option("duckdb", "--engine", help=f"one of: {', '.join(ENGINES)}"),
    labels: bool = typer.Option(True, "--labels/--no-labels",
                                help="also write labels/month=M when the lake reaches M+2"),
    max_quarantine: float = typer.Option(
        0.05, "--max-quarantine", min=0.0, max=1.0,
        help="refuse an input table when more than this share of its rows breaks row rules"),
    lake: Path = typer.Option(None, "--lake",
                              help="lake root (default: settings, $PROPENSITY_LAKE, ./lake)"),
) -> None:
    """Build features/month=M (one row per customer and cut-off) and labels/month=M."""
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise typer.BadParameter("--month is required (YYYY-MM)", param_hint="--month")
    if engine not in ENGINES:
        raise typer.BadParameter(f"unknown engine {engine!r}; one of {', '.join(ENGINES)}",
                                 param_hint="--engine")
    from features.build import MissingInputError, build_features
    from features.validate import InputValidationError, Policy
    from propensity.settings import load_settings

    settings = load_settings(lake=lake)
    try:
        report = build_features(settings.lake, month, engine, labels=labels,
                                policy=Policy(max_quarantine_share=max_quarantine))
    except (InputValidationError, MissingInputError) as err:
        log.error("features for %s not built: %s", month, err)
        raise typer.Exit(1) from err
    log.info("features %s on %s: %d rows x %d columns in %.1fs -> %s", month, report.engine,
             report.rows, report.columns, report.seconds, report.features_path)
    if report.labels_written:
        log.info("labels -> %s", report.labels_path)
    else:
        log.warning("%s", report.labels_note)
    for table, counts in report.quarantined.items():
        log.warning("quarantined %s: %s -> %s", table, counts, report.quarantine_paths[table])


@app.command()
def catalogue(
    out: Path = typer.Option(Path("docs/features.md"), "--out", help="Markdown file to write"),
) -> None:
    """Write the feature catalogue (name, family, type, meaning) generated from the code."""
    from features.catalogue import feature_catalogue, write_catalogue

    path = write_catalogue(out)
    log.info("wrote %d features to %s", len(feature_catalogue()), path)
