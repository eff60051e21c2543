"""``propensity features``: the sub-app the propensity CLI mounts."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from features.cli import app

from .conftest import MONTH


def _root() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(app, name="features")

    @root.command()
    def other() -> None:  # a second command, so "features" stays a group as in propensity
        """Unused."""

    return root


def test_features_command_builds_the_month(market, tmp_path):
    lake = market.copy(tmp_path / "lake")
    res = CliRunner().invoke(_root(), ["features", "--month", MONTH, "--lake", str(lake.root),
                                       "--no-labels"])
    assert res.exit_code == 0, res.output
    assert lake.path("features", MONTH).exists()
    assert not lake.path("labels", MONTH).exists()


def test_catalogue_command_writes_the_docs(tmp_path):
    out = tmp_path / "features.md"
    res = CliRunner().invoke(_root(), ["features", "catalogue", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "| `sig_funding_round_count_30d` |" in out.read_text()


def test_bad_arguments_are_refused(tmp_path):
    runner = CliRunner()
    res = runner.invoke(_root(), ["features", "--lake", str(tmp_path)])
    assert res.exit_code != 0 and "--month" in res.output
    res = runner.invoke(_root(), ["features", "--month", MONTH, "--engine", "polars",
                                  "--lake", str(tmp_path)])
    assert res.exit_code != 0 and "unknown engine" in res.output


def test_a_refused_input_exits_with_the_reason(market, tmp_path, caplog):
    lake = market.copy(tmp_path / "lake")
    first = lake.months("raw/subscriptions")[0]
    res = CliRunner().invoke(_root(), ["features", "--month", first, "--lake", str(lake.root)])
    assert res.exit_code == 1
    assert "subscription snapshot" in caplog.text
