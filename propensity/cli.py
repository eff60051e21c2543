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
    port: int = typer.Option(3000, "--port", help="port of the partner service on 127.0.0.1"),
    web_port: int = typer.Option(8090, "--web-port", help="port of the synthetic web"),
    fresh: bool = typer.Option(False, "--fresh", help="regenerate the market even if present"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="keep the service running "
                               "when done (Ctrl-C to stop)"),
    lake: Path = typer.Option(None, "--lake", help="lake root (default: settings)"),
) -> None:
    """Run the whole embedded default: market, web, crawl, features, training, scoring,
    reports, evaluation and the partner service, then say where to look."""
    from propensity.demo import run_demo

    run_demo(lake=lake, port=port, web_port=web_port, fresh=fresh, serve=serve)


@app.callback()
def main() -> None:
    """Every command takes --lake DIR (default from settings, env PROPENSITY_LAKE, else ./lake)."""
    from propensity.logs import setup_logging

    setup_logging()


if __name__ == "__main__":
    app()
