"""Path attribution, chunked scoring and the attribution setting, on the trained champions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from propensity import contracts as C
from propensity.products import eligible_mask
from scoring.attribution import PathModel
from scoring.batch import load_champions, read_features, read_signals
from scoring.reasons import strongest_signals
from scoring.scores import score_chunks, score_frame

from .conftest import MONTH


@pytest.fixture(scope="module")
def champions(monthly_lake):
    lake, settings, manifest = monthly_lake
    products = [p for p in settings.products if p not in manifest["unscored_products"]]
    return load_champions(lake, settings, products)


@pytest.fixture(scope="module")
def features(monthly_lake) -> pd.DataFrame:
    lake, _, _ = monthly_lake
    return read_features(lake, MONTH)


def test_path_contributions_sum_to_the_raw_score_of_every_champion(champions, features):
    hit_missing = hit_categorical = 0
    for product, pair in champions.models.items():
        for kind, pipe in pair.items():
            if pipe is None:
                continue
            X = features if kind == "fit" else features[eligible_mask(features, product)]
            Xp = pipe.named_steps["prep"].transform(X)
            booster = pipe.named_steps["model"].estimator_.booster_
            pm = PathModel.from_booster(booster)
            contrib = pm.contributions(Xp, dtype=np.float64)
            raw = booster.predict(Xp, raw_score=True)
            np.testing.assert_allclose(contrib.sum(axis=1) + pm.bias, raw, rtol=0, atol=1e-6,
                                       err_msg=f"{product} {kind}")
            # the walk met the cases LightGBM decides specially: a missing value on a split
            # that sends missing values to its default side, and category splits
            M = pm.matrix(Xp)
            nan_split = pm.feature[pm.missing == 2]
            hit_missing += int(np.isnan(M[:, nan_split]).sum())
            hit_categorical += int(pm.categorical.sum())
            # the contributions are those of the features the rows' paths split on
            used = np.zeros(M.shape[1], bool)
            used[pm.feature] = True
            assert not contrib[:, ~used].any()
    assert hit_missing > 0
    assert hit_categorical > 0


def test_path_contributions_follow_missing_values_and_zero_as_missing():
    """Trees that send NaN (or zero, with zero_as_missing) to either side, and categories."""
    import lightgbm as lgb

    rng = np.random.default_rng(3)
    n = 4000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice([0.0, 1.0, 2.0], n),
                      "c": pd.Categorical(rng.choice(list("pqrstu"), n))})
    X.loc[rng.random(n) < 0.2, "a"] = np.nan
    X.loc[rng.random(n) < 0.1, "c"] = np.nan
    y = ((X["a"].fillna(1) > 0.3) ^ X["c"].isin(list("pq")) ^ (X["b"] == 0)).astype(int)
    for zero_as_missing in (False, True):
        model = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, min_data_per_group=5,
                                   zero_as_missing=zero_as_missing, verbose=-1).fit(X, y)
        pm = PathModel.from_booster(model.booster_)
        assert pm.default_left.any() and (~pm.default_left).any()
        assert (pm.missing == (1 if zero_as_missing else 2)).any()
        assert pm.categorical.any()
        Xt = X.copy()
        Xt.loc[:100, "c"] = np.nan
        contrib = pm.contributions(Xt, dtype=np.float64)
        raw = model.booster_.predict(Xt, raw_score=True)
        np.testing.assert_allclose(contrib.sum(axis=1) + pm.bias, raw, rtol=0, atol=1e-9)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["customer_id", "product"]).reset_index(drop=True)


def test_chunked_scoring_equals_one_frame(monthly_lake, champions, features):
    lake, settings, _ = monthly_lake
    signals = strongest_signals(read_signals(lake, MONTH), MONTH)
    previous = pq.read_table(lake.path(C.SCORES, "2026-10")).to_pandas()
    kw = dict(month=MONTH, signals=signals, previous=previous, versions=champions.versions)
    whole = score_frame(features, champions.models, settings, **kw)
    parts = list(score_chunks(features, champions.models, settings, chunk_rows=250, **kw))
    assert len(parts) == int(np.ceil(len(features) / 250))
    chunked = pd.concat(parts, ignore_index=True)
    a, b = _sorted(whole), _sorted(chunked)
    for col in ("fit_reasons", "intent_reasons"):
        assert a[col].map(list).tolist() == b[col].map(list).tolist(), col
    pd.testing.assert_frame_equal(a.drop(columns=["fit_reasons", "intent_reasons"]),
                                  b.drop(columns=["fit_reasons", "intent_reasons"]))


def test_treeshap_setting_scores_the_same_with_its_own_reasons(monthly_lake, champions,
                                                               features):
    lake, settings, _ = monthly_lake
    models = {p: champions.models[p] for p in list(champions.models)[:2]}
    rows = features.iloc[:200]
    path = score_frame(rows, models, settings, month=MONTH)
    shap = score_frame(rows, models, settings.model_copy(update={
        "scoring": settings.scoring.model_copy(update={"attribution": "treeshap"})}),
        month=MONTH)
    reason_cols = ["fit_reasons", "intent_reasons"]
    pd.testing.assert_frame_equal(path.drop(columns=reason_cols),
                                  shap.drop(columns=reason_cols))
    assert shap["fit_reasons"].map(len).gt(0).all()
    assert path["fit_reasons"].map(len).gt(0).all()


def test_the_run_manifest_records_the_attribution(monthly_lake):
    lake, settings, manifest = monthly_lake
    assert manifest["scoring"]["attribution"] == settings.scoring.attribution == "path"
    runs = sorted((lake.root / "runs" / f"month={MONTH}").glob("*.json"))
    assert json.loads(runs[-1].read_text())["scoring"]["attribution"] == "path"
