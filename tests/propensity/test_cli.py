"""The ``propensity`` command line."""

from __future__ import annotations

from typer.testing import CliRunner

from propensity import contracts as C
from propensity.cli import app
from propensity.lake import Lake


def test_demo_generates_the_default_market_and_prints_the_oracle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROPENSITY_SANDBOX__COMPANIES", "300")
    monkeypatch.setenv("PROPENSITY_SANDBOX__MONTHS", "6")
    runner = CliRunner()
    res = runner.invoke(app, ["demo", "--no-serve"])
    assert res.exit_code == 0, res.output
    lake = Lake(tmp_path / "lake")  # the default lake, relative to where it runs
    assert lake.read(C.COMPANIES).num_rows == 300
    assert len(lake.months(C.SUBSCRIPTIONS)) == 6
    assert "AUC" in res.output and "renewal" in res.output
    before = (tmp_path / "lake/raw/companies/part-0.parquet").stat().st_mtime_ns
    res = runner.invoke(app, ["demo", "--no-serve"])  # a rerun reuses the market
    assert res.exit_code == 0 and "already in" in res.output
    assert (tmp_path / "lake/raw/companies/part-0.parquet").stat().st_mtime_ns == before


def test_help_lists_the_stages():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "sandbox" in res.output and "demo" in res.output
