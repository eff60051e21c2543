"""``propensity experiment`` on arbitrary tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from propensity.cli import app
from training.experiment import ExperimentInputError, check_table, run_experiment


def _table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = rng.random(n) < 1 / (1 + np.exp(-(-2 + 2 * x[:, 0])))
    return pd.DataFrame({"account": [f"A{i}" for i in range(n)], "x0": x[:, 0], "x1": x[:, 1],
                         "segment": rng.choice(["a", "b", "c"], n),
                         "month": np.repeat(pd.date_range("2025-01-01", periods=6, freq="MS"),
                                            n // 6),
                         "bought": np.where(y, "yes", "no")})


def test_cross_validated_experiment_writes_out_of_sample_scores(tmp_path):
    path = tmp_path / "accounts.csv"
    _table().to_csv(path, index=False)
    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["experiment", "--table", str(path), "--id", "account",
                                   "--label", "bought", "--predictions", str(out),
                                   "--lake", str(tmp_path / "lake")])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out)
    assert len(scores) == 1200 and scores["account"].is_unique
    assert scores["score"].between(0, 1).all() and set(scores["fold"]) == set(range(5))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(scores["label"], scores["score"]) > 0.75
    assert "auc" in res.output


def test_time_split_experiment_holds_out_later_months(tmp_path):
    path = tmp_path / "monthly.parquet"
    _table().to_parquet(path, index=False)
    res = run_experiment(path, "account", "bought", "month", tmp_path / "lake", folds=3,
                         tune_seconds=2)
    pred = res.predictions
    unscored = pred["fold"] == -1
    assert pred.loc[unscored, "score"].isna().all() and pred.loc[~unscored, "score"].notna().all()
    # only the first time block is never held out: every unscored row predates every scored one
    assert unscored.any() and pred.loc[unscored, "month"].max() < pred.loc[~unscored, "month"].min()
    assert pred.loc[pred["month"] == pred["month"].max(), "score"].notna().all()
    assert res.metrics["auc"] > 0.7 and res.params  # Optuna ran within its budget


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns=["bought"]), "no label column 'bought'"),
    (lambda d: d.assign(bought=d["bought"].where(d.index != 3, "maybe")),
     r"must be binary.*rows \[3\]"),
    (lambda d: d.assign(account="same"), "has duplicates"),
    (lambda d: d.assign(bought="no"), "need at least 10 each"),
])
def test_bad_tables_get_clear_errors(tmp_path, mutate, message):
    path = tmp_path / "t.csv"
    with pytest.raises(ExperimentInputError, match=message):
        check_table(mutate(_table()), path, "account", "bought", None)


def test_cli_reports_bad_input_without_traceback(tmp_path):
    res = CliRunner().invoke(app, ["experiment", "--table", str(tmp_path / "missing.csv"),
                                   "--id", "a", "--label", "b", "--lake", str(tmp_path)],
                            env={"COLUMNS": "400"})  # no wrap inside the error box
    assert res.exit_code == 2 and "no such file" in res.output
