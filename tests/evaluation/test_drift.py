"""Drift between months: PSI of scores and features, crawler coverage, label delay, flags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation.drift import (
    crawler_coverage,
    drift_flags,
    feature_psi,
    label_delay,
    score_psi,
)
from propensity.lake import Lake
from propensity.settings import EvaluationSettings
from tests.evaluation.conftest import REPLAY

S = EvaluationSettings()


def _scores(month: str, shift: float, n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-(rng.normal(-3 + shift, 1, n))))
    return pd.DataFrame({"month": month, "product": "azure", "eligible": True,
                         "probability": p, "fit_probability": rng.uniform(size=n)})


def test_score_psi_is_stable_between_alike_months_and_flags_a_shift() -> None:
    scores = pd.concat([_scores("2026-01", 0, seed=1), _scores("2026-02", 0, seed=2),
                        _scores("2026-03", 1.0, seed=3)])
    d = score_psi(scores, S)
    prob = d[d["column"] == "probability"].set_index("month")
    assert prob.loc["2026-02", "level"] == "stable"
    assert prob.loc["2026-03", "level"] == "shifted"
    flags = drift_flags(d, feature_psi({}, [], S), pd.DataFrame(columns=["month"]),
                        pd.DataFrame(), S)
    assert [(f.area, f.month, f.subject) for f in flags] == [
        ("scores", "2026-03", "azure probability")]


def test_feature_psi_handles_numbers_flags_and_categories() -> None:
    a = pd.DataFrame({"n": np.arange(1000.0), "b": [True, False] * 500, "c": ["x", "y"] * 500})
    b = pd.DataFrame({"n": np.arange(1000.0) + 700, "b": [True, False] * 500, "c": ["x"] * 1000})
    d = feature_psi({"2026-01": a, "2026-02": b}, ["n", "b", "c", "missing"], S).set_index(
        "feature")
    assert d.loc["b", "psi"] == pytest.approx(0, abs=1e-9)
    assert d.loc["n", "level"] == "shifted" and d.loc["c", "level"] == "shifted"
    assert "missing" not in d.index


def _write(path: Path, table: pa.Table) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path / "part-0.parquet")


def _signals(rows: list[tuple[str, str | None, str]]) -> pa.Table:
    return pa.table({"signal_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
                     "published_at": [dt.date.fromisoformat(r[2]) for r in rows]})


def test_crawler_coverage_counts_recent_resolved_signals_once(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    _write(lake.path("raw/companies"), pa.table({"customer_id": ["c1", "c2", "c3", "c4"]}))
    _write(lake.path("signals", "2026-05"), _signals([
        ("s1", "c1", "2026-04-10"), ("s2", "c1", "2026-04-12"),
        ("s3", "c2", "2025-12-01"),  # too old for May's 90 days
        ("s4", None, "2026-04-20")]))  # unresolved
    _write(lake.path("signals", "2026-06"), _signals([
        ("s1", "c1", "2026-04-10"),  # seen again: counted once
        ("s5", "c3", "2026-05-20"), ("s6", "c4", "2026-06-02")]))  # after June's cut-off
    cov = crawler_coverage(lake, ["2026-04", "2026-05", "2026-06"]).set_index("month")
    assert list(cov.index) == ["2026-05", "2026-06"]  # no crawl for April
    may, june = cov.loc["2026-05"], cov.loc["2026-06"]
    assert may["recent_signals"] == 2 and may["no_signal_share"] == pytest.approx(0.75)
    assert may["unresolved_share"] == pytest.approx(0.25)
    assert june["recent_signals"] == 3 and june["no_signal_share"] == pytest.approx(0.5)
    assert june["signals_per_company"] == pytest.approx(0.75)
    flags = drift_flags(score_psi(pd.DataFrame(columns=["month", "product"]), S),
                        feature_psi({}, [], S), cov.reset_index(), pd.DataFrame(),
                        EvaluationSettings(no_signal_share_max=0.6, coverage_change_max=0.3))
    assert {(f.month, f.subject) for f in flags} == {
        ("2026-05", "no_signal_share"), ("2026-06", "signals_per_company")}


def test_coverage_and_label_delay_on_a_sandbox_market(eval_lake: Lake) -> None:
    cov = crawler_coverage(eval_lake, list(REPLAY))
    assert (cov["companies"] == 600).all()
    assert ((cov["no_signal_share"] > 0) & (cov["no_signal_share"] < 1)).all()
    assert (cov["signals_per_company"] > 0).all() and (cov["unresolved_share"] == 0).all()
    delay = label_delay(eval_lake, list(REPLAY)).set_index("month")
    assert delay["labels"].all() and (delay["wins"] > 0).all()
    shares = delay[["share_month1", "share_month2", "share_month3"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (delay["median_days_to_win"].between(0, 92)).all()
    assert (delay["lag_months"] == 0).all()  # labels as new as the features built
    late = drift_flags(score_psi(pd.DataFrame(columns=["month", "product"]), S),
                       feature_psi({}, [], S), cov, delay.reset_index().assign(lag_months=6), S)
    assert [f.area for f in late] == ["labels"]
