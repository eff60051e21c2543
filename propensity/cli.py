"""The ``propensity`` command: one Typer app that mounts each stage's sub-app."""

from __future__ import annotations

import typer

from sandbox.cli import app as sandbox_app

app = typer.Typer(
    name="propensity",
    help="Open ML propensity platform: who is ready to buy which cloud product, why, and "
    "what it is worth.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_app, name="sandbox")


@app.callback()
def main() -> None:
    """Every command takes --lake DIR (default from settings, env PROPENSITY_LAKE, else ./lake)."""
    from propensity.logs import setup_logging

    setup_logging()


if __name__ == "__main__":
    app()
