"""The pooled backtest: a thin loop over the training functions, with oracle and baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propensity.settings import load_settings
from training import data as D
from training.backtest import SCORERS, backtest_scores, pooled_capture, summarize


def test_pooled_capture_sums_buyers_over_monthly_lists():
    # month a: 10 rows, top 1 holds 1 of 2 buyers; month b: 10 rows, top 1 holds 1 of 1
    s = pd.DataFrame({"month": ["a"] * 10 + ["b"] * 10,
                      "label": [1, 1] + [0] * 8 + [1] + [0] * 9,
                      "x": [9, 0, 5, 4, 3, 2, 1, 1, 1, 1] + [9] + [0] * 9})
    assert pooled_capture(s, "x") == pytest.approx(2 / 3)


@pytest.fixture(scope="module")
def scores(featured_lake):
    settings = load_settings(lake=featured_lake.root, training={"train_months": 4})
    return backtest_scores(featured_lake, settings, ["2026-07", "2026-08"], ("azure", "m365"))


def test_backtest_scores_every_eligible_row_with_every_scorer(featured_lake, scores):
    assert set(scores["month"]) == {"2026-07", "2026-08"}
    assert set(scores["product"]) == {"azure", "m365"}
    for m in ("2026-07", "2026-08"):
        df = D.read_month(featured_lake, m)
        for p in ("azure", "m365"):
            _, y, _ = D.intent_set(df, p)
            got = scores[(scores["month"] == m) & (scores["product"] == p)]
            assert len(got) == len(y) and got["label"].sum() == y.sum()
    assert scores[list(SCORERS)].notna().all().all()
    assert scores["model"].between(0, 1).all()


def test_summary_compares_model_with_oracle_and_baselines(scores):
    summary = summarize(scores).set_index("product")
    for p in ("azure", "m365"):
        r = summary.loc[p]
        assert r["months"] == 2 and r["buyers"] > 20
        for c in SCORERS:
            assert 0 <= r[f"{c}_capture_top10"] <= 1
        assert r["capture_vs_oracle"] == pytest.approx(
            r["model_capture_top10"] / r["oracle_capture_top10"])
        # a small market and a short purged window: the model ranks, the oracle stays ahead
        assert r["model_auc"] > 0.52 and r["oracle_auc"] > r["model_auc"] - 0.05


def test_backtest_month_must_have_labels(featured_lake):
    settings = load_settings(lake=featured_lake.root, training={"train_months": 4})
    with pytest.raises(D.TrainingDataError):
        backtest_scores(featured_lake, settings, ["2026-09"], ("azure",))


def _copy_months(src, dest, months):
    """A lake at ``dest`` holding ``src``'s features and labels of ``months`` (to modify)."""
    import shutil

    from propensity.lake import Lake

    lake = Lake(dest)
    for table in ("features", "labels"):
        for m in months:
            shutil.copytree(src.path(table, m), lake.path(table, m))
    return lake


def test_a_month_built_by_an_older_version_names_the_fix(featured_lake, tmp_path):
    """Features of an older build lack new columns: stacking months must not fill them with
    NaN silently, and the error names the month and the command that rebuilds it."""
    import pyarrow.parquet as pq

    old, new = "2026-03", "2026-04"
    lake = _copy_months(featured_lake, tmp_path / "lake", [old, new])
    for f in lake.path("features", old).glob("*.parquet"):
        t = pq.read_table(f)
        pq.write_table(t.drop_columns([c for c in t.column_names if c.endswith("_90d")
                                       and c.startswith("wl_")]), f)
    for read in (lambda: D.frame(lake, [old, new]),
                 lambda: D.IntentRows(lake, [old, new], ("m365",))):
        with pytest.raises(D.TrainingDataError, match=rf"features for {old} .* lack .*"
                           rf"wl_.*_90d.*propensity features --month {old}"):
            read()
    assert len(D.frame(lake, [new])) > 0  # the current month alone reads fine


def _strip_label_definition(lake, month: str) -> None:
    """Make ``month``'s labels look like an older build's: same schema, no definition."""
    import pyarrow.parquet as pq

    for f in lake.path("labels", month).glob("*.parquet"):
        pq.write_table(pq.read_table(f).replace_schema_metadata(None), f)


def test_labels_of_another_definition_name_the_fix(featured_lake, tmp_path):
    """Labels built by the definition that counted expired trials look the same as current
    ones; training refuses them (naming the month and the rebuild) instead of mixing them."""
    from propensity import contracts as C

    old, new = "2026-03", "2026-04"
    assert C.label_definition(featured_lake.path("labels", old)) == C.LABEL_DEFINITION
    lake = _copy_months(featured_lake, tmp_path / "lake", [old, new])
    _strip_label_definition(lake, old)
    for read in (lambda: D.frame(lake, [old, new]),
                 lambda: D.IntentRows(lake, [old, new], ("m365",)),
                 lambda: D.read_month(lake, old)):
        with pytest.raises(D.TrainingDataError, match=rf"labels for {old} .* definition 1, "
                           rf"this version reads {C.LABEL_DEFINITION} .*propensity features "
                           rf"--month {old}"):
            read()
    assert len(D.frame(lake, [new])) > 0


def test_the_monthly_job_rebuilds_labels_of_another_definition(featured_lake, tmp_path):
    import shutil

    from propensity import contracts as C
    from propensity.lake import Lake
    from propensity.settings import Settings
    from scoring.monthly import build_needed_features, needed_feature_months

    shutil.copytree(featured_lake.root, tmp_path / "lake")
    lake = Lake(tmp_path / "lake")
    settings = Settings()
    month = "2026-10"
    needed = needed_feature_months(lake, month, settings)
    stale = [m for m in needed if lake.path("labels", m).exists()][1]
    _strip_label_definition(lake, stale)
    built = build_needed_features(lake, settings, month, "duckdb")
    assert set(built) == {stale, month}  # the stale month and M, nothing else
    assert C.label_definition(lake.path("labels", stale)) == C.LABEL_DEFINITION
    assert len(D.frame(lake, [stale])) > 0


def test_training_rows_do_not_depend_on_the_feature_files_row_order(featured_lake, tmp_path):
    """Feature files hold rows in the engine's order, which differs between two builds of
    the same month; what training reads (and so the model) must not."""
    import numpy as np
    import pyarrow.parquet as pq

    months = ["2026-04", "2026-05"]
    lake = _copy_months(featured_lake, tmp_path / "lake", months)
    for m in months:
        for f in lake.path("features", m).glob("*.parquet"):
            t = pq.read_table(f)
            perm = np.random.default_rng(7).permutation(t.num_rows)
            pq.write_table(t.take(perm), f)
            assert not pq.read_table(f)["customer_id"].equals(t["customer_id"])
    pd.testing.assert_frame_equal(D.frame(lake, months), D.frame(featured_lake, months))
    for rate in (1.0, 0.5):
        pd.testing.assert_frame_equal(D.intent_frame(lake, months, "m365", rate, seed=3),
                                      D.intent_frame(featured_lake, months, "m365", rate, seed=3))


def test_sampled_training_frame_is_weighted_and_deterministic(featured_lake):
    months = ["2026-05", "2026-06"]
    full = D.intent_frame(featured_lake, months, "m365")
    half = D.intent_frame(featured_lake, months, "m365", negative_rate=0.5, seed=1)
    again = D.intent_frame(featured_lake, months, "m365", negative_rate=0.5, seed=1)
    pd.testing.assert_frame_equal(half, again)
    y_full, y_half = full["label_m365"].astype(bool), half["label_m365"].astype(bool)
    assert y_half.sum() == y_full.sum()  # every buyer kept
    assert (half.loc[y_half, D.WEIGHT] == 1).all() and (half.loc[~y_half, D.WEIGHT] == 2).all()
    # weighted, the sample has about as many non-buyers as the full frame
    assert half.loc[~y_half, D.WEIGHT].sum() == pytest.approx((~y_full).sum(), rel=0.08)
    # only the product's intent columns (plus key, label and weight) are read
    assert "wl_azure_wins_90d" not in half.columns and "wl_m365_wins_90d" in half.columns
    assert "wl_m365_wins" not in half.columns  # whole-history counts are not read
    assert D.WEIGHT not in D.feature_columns(half, "m365", "intent")
    assert np.isclose(full[D.WEIGHT], 1).all()


def test_intent_rows_read_once_give_each_product_its_own_frame(featured_lake):
    months = ["2026-05", "2026-06"]
    rows = D.IntentRows(featured_lake, months, ("m365", "azure"), negative_rate=0.5, seed=1)
    for product in ("m365", "azure"):
        pd.testing.assert_frame_equal(
            rows.frame(product), D.intent_frame(featured_lake, months, product, 0.5, seed=1))
    m365, azure = rows.frame("m365"), rows.frame("azure")
    assert "wl_azure_wins_90d" not in m365.columns and "wl_azure_wins_90d" in azure.columns
    # the feature table's column order (the model's feature order), then label and weight
    names = pd.DataFrame(columns=D.feature_names(featured_lake, months[-1]))
    assert list(m365.columns) == [*D.KEY, *D.feature_columns(names, "m365", "intent"),
                                  "label_m365", D.WEIGHT]
    # one sample of non-buyers for every product: a customer-month sampled as an m365
    # non-buyer is in azure's sample too wherever it is an eligible azure non-buyer
    key = ["customer_id", "as_of"]
    full_a = D.intent_frame(featured_lake, months, "azure")
    neg_m = m365.loc[~m365["label_m365"].astype(bool), key]
    could = neg_m.merge(full_a.loc[~full_a["label_azure"].astype(bool), key], on=key)
    kept = could.merge(azure.loc[~azure["label_azure"].astype(bool), key], on=key)
    assert len(could) > 50 and len(kept) == len(could)
    with pytest.raises(KeyError, match="copilot"):
        rows.frame("copilot")


def test_sandbox_signals_command_writes_stand_in_signals(tmp_path):
    from typer.testing import CliRunner

    from propensity import contracts as C
    from propensity.cli import app
    from propensity.lake import Lake
    from propensity.settings import SandboxSettings
    from sandbox.market import generate_market
    from sandbox.signals import signals_from_traces

    lake = Lake(tmp_path)
    generate_market(lake, SandboxSettings(companies=200, months=6, seed=3, end_month="2026-10"))
    res = CliRunner().invoke(app, ["sandbox", "signals", "--from", "2026-08", "--to", "2026-10",
                                   "--lake", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert lake.months(C.SIGNALS) == ["2026-08", "2026-09", "2026-10"]
    assert lake.read(C.SIGNALS, month="2026-09").equals(signals_from_traces(lake, "2026-09"))
    bad = CliRunner().invoke(app, ["sandbox", "signals", "--from", "2026-10", "--to", "2026-08",
                                   "--lake", str(tmp_path)])
    assert bad.exit_code != 0
