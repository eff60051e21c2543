"""The Spark path gives the embedded path's scores; on-demand scoring uses the batch's features."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from propensity import contracts as C
from scoring.batch import score_month, score_new_company

from .conftest import MONTH


def test_spark_engine_gives_the_same_scores(monthly_lake, tmp_path):
    lake, settings, manifest = monthly_lake
    products = [p for p in ("azure", "renewal") if p not in manifest["unscored_products"]]
    duck = pd.read_parquet(lake.path(C.SCORES, MONTH))
    duck = duck[duck["product"].isin(products)]
    rep = score_month(lake, settings, MONTH, products, engine="spark")
    try:
        spark = pd.read_parquet(lake.path(C.SCORES, MONTH))
        assert rep.rows == len(spark) == len(duck)
        cols = ["customer_id", "product", "fit_score", "intent_score", "cell", "cluster",
                "cell_change"]
        a = duck[cols].sort_values(cols[:2]).reset_index(drop=True)
        b = spark[cols].sort_values(cols[:2]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        pa_ = duck.sort_values(cols[:2])["probability"].to_numpy()
        pb = spark.sort_values(cols[:2])["probability"].to_numpy()
        assert ((pa_ - pb)[~pd.isna(pa_)] ** 2).max() < 1e-18
        ra = duck.sort_values(cols[:2])["intent_reasons"].map(list).tolist()
        rb = spark.sort_values(cols[:2])["intent_reasons"].map(list).tolist()
        assert ra == rb
    finally:  # leave the lake as the other tests expect it
        score_month(lake, settings, MONTH)


def test_on_demand_uses_the_batch_feature_definitions(monthly_lake):
    lake, settings, _ = monthly_lake
    feats = pq.read_table(lake.path("features", MONTH)).to_pandas()
    # a batch company the vendor knows nothing about beyond firmographics
    blank = feats[(feats["ib_products_owned"] == 0) & ~feats["agr_has_ea"].astype(bool)
                  & (feats["agr_active_count"].fillna(0) == 0)
                  & (feats.filter(like="wl_").filter(like="_opps").fillna(0).sum(axis=1) == 0)
                  & feats["sig_any_seen"].astype(bool)
                  & feats.filter(regex=r"^ib_.*_status$").fillna("none").eq("none").all(axis=1)]
    assert len(blank) > 0
    cid = blank["customer_id"].iloc[0]
    comp = lake.read(C.COMPANIES).to_pandas().set_index("customer_id").loc[cid]
    company = {k: comp[k] for k in ("account_name", "domain", "employees", "country",
                                    "industry", "vertical", "city", "state", "postal_code",
                                    "acr_monthly_usd", "created_at")}
    company["employees"] = int(company["employees"])
    out = score_new_company(lake, settings, company, month=MONTH)
    batch = pd.read_parquet(lake.path(C.SCORES, MONTH))
    batch = batch[batch["customer_id"] == cid].set_index("product")
    out = out.set_index("product")
    assert set(out.index) == set(batch.index)
    # same features (same definitions, same signals by domain) -> same probabilities
    pd.testing.assert_series_equal(out["fit_probability"], batch["fit_probability"],
                                   check_names=False, rtol=1e-9)
    both = out["eligible"] & batch["eligible"]
    assert both.any()
    pd.testing.assert_series_equal(out.loc[both, "probability"],
                                   batch.loc[both, "probability"], check_names=False, rtol=1e-9)
    assert out["fit_score"].between(0, 100).all()
    assert (out["cell_change"] == "new").all()


def test_on_demand_rejects_incomplete_companies(monthly_lake):
    lake, settings, _ = monthly_lake
    with pytest.raises(ValueError, match="domain"):
        score_new_company(lake, settings, {"account_name": "x", "employees": 3,
                                           "country": "US", "industry": "Retail"})
