"""The ``propensity`` command: one Typer app that mounts each stage's sub-app."""

from __future__ import annotations

from pathlib import Path

import typer

from crawlers.cli import app as crawlers_app
from crawlers.cli import crawl
from evaluation.cli import evaluate
from features.cli import app as features_app
from sandbox.cli import app as sandbox_app
from scoring.cli import monthly, score
from serving.cli import partners_app, serve
from training.cli import experiment, models_app, train

app = typer.Typer(
    name="propensity",
    help="Open ML propensity platform: who is ready to buy which cloud product, why, and "
    "what it is worth.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_app, name="sandbox")
app.command("crawl")(crawl)
app.add_typer(crawlers_app, name="crawler", help="Crawler tools: quality against the sandbox "
              "truth, publishing a staged crawl.")
app.add_typer(features_app, name="features")
app.command("train")(train)
app.command("experiment")(experiment)
app.add_typer(models_app, name="models")
app.command("score")(score)
app.command("monthly")(monthly)
app.command("serve")(serve)
app.add_typer(partners_app, name="partners")
app.command("evaluate")(evaluate)


@app.command()
def demo(
    port: int = typer.Option(8080, "--port", help="port of the synthetic web on 127.0.0.1"),
    fresh: bool = typer.Option(False, "--fresh", help="regenerate the market even if present"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the web when done"),
    lake: Path = typer.Option(None, "--lake", help="lake root (default: settings)"),
) -> None:
    """Run everything on the embedded default: a sandbox market, its oracle, its web.

    Later stages (crawl, features, training, scoring, reports, the service) extend this.
    """
    from rich.console import Console

    from propensity import contracts as C
    from propensity.lake import Lake
    from propensity.settings import load_settings
    from sandbox import cli as sandbox_cli

    settings = load_settings(lake=lake)
    lk = Lake(settings.lake)
    console = Console(stderr=True)
    if fresh or not lk.path(C.COMPANIES).exists():
        console.rule("[bold]1. sandbox market")
        sandbox_cli.generate(companies=None, months=None, seed=None, end_month=None,
                             lake=settings.lake)
    else:
        console.print(f"market already in {settings.lake} (use --fresh to regenerate)")
    console.rule("[bold]2. oracle (the ceiling for every model)")
    sandbox_cli.oracle(month=None, span=6, lake=settings.lake)
    if serve:
        console.rule("[bold]3. synthetic web")
        companies = lk.read(C.COMPANIES, columns=["domain"]).column("domain")
        console.print(
            f"serving the market's web on http://127.0.0.1:{port} (Ctrl-C to stop). Try:\n"
            f"  curl -x http://127.0.0.1:{port} http://{companies[0]}/\n"
            f"  curl -x http://127.0.0.1:{port} http://{settings.sandbox.press_host}/feed.xml"
        )
        sandbox_cli.serve(port=port, month=None, host="127.0.0.1", lake=settings.lake)


@app.callback()
def main() -> None:
    """Every command takes --lake DIR (default from settings, env PROPENSITY_LAKE, else ./lake)."""
    from propensity.logs import setup_logging

    setup_logging()


if __name__ == "__main__":
    app()
