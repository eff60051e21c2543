"""The whole evaluation on a small market: replay, figures, report, MLflow, command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evaluation.backtest import SCORERS, BacktestError, training_months
from evaluation.run import Evaluation, evaluate
from propensity.lake import Lake
from propensity.months import add_months
from propensity.products import eligible_mask
from propensity.settings import load_settings
from tests.evaluation.conftest import PRODUCTS, REPLAY, copy_lake
from training.data import read_month


def test_models_learn_from_the_monthly_jobs_cut_offs_only(eval_lake: Lake) -> None:
    # as `propensity train --month M`: M - 3 is held out, and the cut-offs whose windows
    # closed before it (up to M - 6) train
    assert training_months(eval_lake, "2026-06", 12) == ["2025-11", "2025-12"]
    assert training_months(eval_lake, "2026-07", 12) == ["2025-11", "2025-12", "2026-01"]
    assert training_months(eval_lake, "2026-07", 2) == ["2025-12", "2026-01"]
    with pytest.raises(BacktestError, match="at least two"):
        training_months(eval_lake, "2026-05", 12)  # held out 2026-01: nothing up to 2025-10


@pytest.fixture(scope="module")
def evaluated(eval_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    lake = copy_lake(eval_lake, tmp_path_factory.mktemp("evaluated"))
    settings = load_settings(lake=lake.root)
    return evaluate(lake, settings, REPLAY[0], REPLAY[-1], PRODUCTS)


def test_replay_trains_before_each_month_and_judges_eligible_rows(evaluated: Evaluation) -> None:
    rep = evaluated.replay
    assert rep.months == list(REPLAY)
    for month, used in rep.train_months.items():
        assert len(used) >= 2 and max(used) < add_months(month, -3)
    for (month, product), d in rep.rows.groupby(["month", "product"]):
        truth = read_month(evaluated.lake, month)
        truth = truth[eligible_mask(truth, product)].set_index("customer_id")
        assert set(d["customer_id"]) == set(truth.index)
        assert (d.set_index("customer_id")["label"] == truth.loc[d["customer_id"],
                                                                 f"label_{product}"]).all()
        assert d["cluster"].isin(["Act now", "Evaluate", "Nurture", "Educate"]).all()


def test_metrics_put_model_oracle_and_baselines_side_by_side(evaluated: Evaluation) -> None:
    m = evaluated.metrics
    assert set(m["product"]) == set(PRODUCTS)
    for _, d in m.groupby("product"):
        assert list(d["scorer"]) == list(SCORERS)
        assert ((d["auc_low"] <= d["auc"]) & (d["auc"] <= d["auc_high"])).all()
        assert ((d["capture_low"] <= d["capture_top10"])
                & (d["capture_top10"] <= d["capture_high"])).all()
        oracle = d.set_index("scorer").loc["oracle"]
        assert oracle["auc"] > 0.65 and oracle["capture_vs_oracle"] == 1.0
    assert m.loc[m["scorer"] == "recent_signal", "brier"].isna().all()  # a rank, not a probability
    rates = evaluated.cluster_rates
    for product, d in rates.groupby("product"):
        assert d["rows"].sum() == (evaluated.replay.rows["product"] == product).sum()
    assert {c.product for c in evaluated.order_checks} == set(PRODUCTS)
    # the oracle dealt into the model's cluster sizes: same customers per cluster
    o = evaluated.oracle_cluster_rates
    assert o is not None
    assert (o.set_index(["product", "group"])["rows"]
            == rates.set_index(["product", "group"])["rows"]).all()
    assert {c.product for c in evaluated.oracle_order_checks} == set(PRODUCTS)
    # the AUC outside Act now counts exactly the rows of the other three clusters
    out = evaluated.outside_act_now.set_index("product")
    for product, d in rates.groupby("product"):
        assert out.loc[product, "rows"] == d.loc[d["group"] != "Act now", "rows"].sum()
        assert 0 <= out.loc[product, "model"] <= 1 and 0 <= out.loc[product, "oracle"] <= 1


def test_drift_covers_consecutive_replayed_months(evaluated: Evaluation) -> None:
    sd = evaluated.score_drift
    assert set(sd["month"]) == {REPLAY[1]} and set(sd["product"]) == set(PRODUCTS)
    assert np.isfinite(sd["psi"]).all()
    assert len(evaluated.feature_drift) > 0
    assert list(evaluated.coverage["month"]) == list(REPLAY)
    assert list(evaluated.delay["month"]) == list(REPLAY)


def test_report_links_every_chart(evaluated: Evaluation) -> None:
    page = evaluated.page
    assert page == evaluated.lake.root / "evaluation" / f"{REPLAY[0]}_{REPLAY[-1]}" / "index.html"
    html = page.read_text()
    for heading in ("Cluster verification", "Backtest: model, oracle and baselines",
                    "Drift between consecutive months", "Crawler coverage", "Label delay"):
        assert heading in html
    for name in ("win_rate", "score_distribution", "score_psi", "coverage",
                 *(f"{k}_{p}" for k in ("gains", "calibration") for p in PRODUCTS)):
        png = evaluated.charts[name]
        assert png.exists() and png.read_bytes()[:4] == b"\x89PNG" and png.name in html
    assert (page.parent / "metrics.csv").exists()
    assert "oracle in the same cluster sizes" in html
    assert (page.parent / "oracle_win_rate_by_cluster.csv").exists()
    assert "Ranking outside Act now" in html
    assert (page.parent / "auc_outside_act_now.csv").exists()


def test_logged_to_its_own_experiment_without_touching_the_registry(
        evaluated: Evaluation) -> None:
    from mlflow import MlflowClient

    from training.tracking import tracking_uri

    client = MlflowClient(tracking_uri(evaluated.lake.root))
    run = client.get_run(evaluated.run_id)
    exp = client.get_experiment(run.info.experiment_id)
    assert exp.name == evaluated.settings.evaluation.experiment
    assert run.data.params["months"] == ",".join(REPLAY)
    assert f"{PRODUCTS[0]}_model_auc" in run.data.metrics
    assert f"{PRODUCTS[0]}_oracle_capture_top10" in run.data.metrics
    arts = [a.path for a in client.list_artifacts(run.info.run_id, "report")]
    assert "report/index.html" in arts
    assert client.search_registered_models() == []  # no model registered, no alias moved


def test_command_runs_as_a_module_and_explains_a_window_not_closed(
        eval_lake: Lake, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "evaluation", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "--from" in out.stdout and "--to" in out.stdout
    from evaluation.cli import app

    lake = copy_lake(eval_lake, tmp_path / "lake")
    res = CliRunner().invoke(app, ["--from", "2026-08", "--to", "2026-09", "--no-mlflow",
                                   "--lake", str(lake.root)])
    assert res.exit_code == 1
    assert "no labels" in res.output
    res = CliRunner().invoke(app, ["--from", "2026-13", "--to", "2026-09",
                                   "--lake", str(lake.root)])
    assert res.exit_code != 0
