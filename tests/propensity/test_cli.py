"""The ``propensity`` command line."""

from __future__ import annotations

from typer.testing import CliRunner

from propensity import contracts as C
from propensity.cli import app
from propensity.lake import Lake


def test_demo_runs_every_stage_and_says_where_to_look(tmp_path, monkeypatch):
    """The README's first command, on a small market: a real crawl, training, scoring,
    publishing, an evaluation report and a partner key (the service itself is tested in
    tests/serving)."""
    import json

    from serving.keys import list_keys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROPENSITY_SANDBOX__COMPANIES", "400")
    monkeypatch.setenv("PROPENSITY_SANDBOX__MONTHS", "12")
    monkeypatch.setenv("PROPENSITY_TRAINING__TRAIN_MONTHS", "4")
    from propensity.demo import run_demo

    timings = run_demo(web_port=_free_port(), serve=False)
    lake = Lake(tmp_path / "lake")  # the default lake, relative to where it runs
    assert lake.read(C.COMPANIES).num_rows == 400
    crawled = lake.read(C.SIGNALS, month="2026-11")
    assert crawled.num_rows > 0  # the real crawl of the current month
    index = json.loads((tmp_path / "lake/reports/_published.json").read_text())
    assert index["latest"] == "2026-11"
    assert list((tmp_path / "lake/reports").glob("partner=*/month=2026-11/azure.csv"))
    assert list((tmp_path / "lake/evaluation").rglob("*.html"))
    assert len(list_keys(lake)) == 1
    assert set(timings) >= {"market", "crawl", "monthly", "evaluation", "total"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_the_stages():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "sandbox" in res.output and "demo" in res.output
