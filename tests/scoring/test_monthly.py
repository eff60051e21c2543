"""The monthly job end to end on a small sandbox lake: scores, reports, publishing."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from propensity import contracts as C
from scoring.monthly import MonthlyError, run_monthly
from scoring.publish import read_index, report_path

from .conftest import MONTH, PREVIOUS, PREVIOUS_PRODUCTS


@pytest.fixture(scope="module")
def scores(monthly_lake) -> pd.DataFrame:
    lake, _, _ = monthly_lake
    t = pq.read_table(lake.path(C.SCORES, MONTH))
    C.SCORES.validate(t, "scores")
    return t.to_pandas()


def test_every_customer_is_scored_for_every_scored_product(monthly_lake, scores):
    lake, settings, manifest = monthly_lake
    feats = pq.read_table(lake.path("features", MONTH), columns=["customer_id"])
    scored = [p for p in settings.products if p not in manifest["unscored_products"]]
    assert len(scored) >= 6, manifest["unscored_products"]
    assert set(scores["product"]) == set(scored)
    assert len(scores) == feats.num_rows * len(scored)
    assert scores["fit_score"].between(0, 100).all()
    elig = scores[scores["eligible"]]
    assert elig["intent_score"].between(0, 100).all()
    assert elig["probability"].between(0, 1).all()
    assert scores.loc[~scores["eligible"], "cluster"].eq(C.NOT_ELIGIBLE).all()
    assert scores.loc[~scores["eligible"], "expected_revenue_usd"].eq(0).all()


def test_classes_cells_and_clusters_agree_with_the_scores(scores):
    e = scores[scores["eligible"]]
    hi = e["intent_score"] >= 75
    assert (e.loc[hi, "intent_class"] == "High").all()
    assert e.loc[hi, "cell"].str.startswith("A").all()
    assert (e.loc[hi, "cluster"] == "Act now").all()
    fit_hi = e["fit_score"] >= 75
    assert e.loc[fit_hi, "cell"].str.endswith("1").all()
    low = e["intent_score"] < 30
    assert (e.loc[low, "cluster"] == "Educate").all()
    # percentiles: about a quarter of the eligible customers of a product are Act now
    share = e.groupby("product")["cluster"].apply(lambda c: (c == "Act now").mean())
    assert share.between(0.2, 0.3).all(), share


def test_intent_is_ranked_by_probability(scores):
    for _, g in scores[scores["eligible"]].groupby("product"):
        g = g.sort_values("probability")
        assert g["intent_score"].is_monotonic_increasing


def test_three_plain_reasons_and_cited_evidence(scores):
    e = scores[scores["eligible"]]
    n = e["intent_reasons"].map(len)
    assert (n >= 1).all() and (n <= 3).all()
    assert (n == 3).mean() > 0.8
    assert (scores["fit_reasons"].map(len) == 3).mean() > 0.8
    cited = e[e["intent_reasons"].map(lambda r: any(x.startswith("seen on the web:")
                                                     for x in r))]
    assert len(cited) > 0
    for r in cited.head(50).itertuples():
        text = next(x for x in r.intent_reasons if x.startswith("seen on the web:"))
        assert "http://" in text and ", 20" in text  # names where and when
    assert e["evidence_url"].notna().mean() > 0.3
    # nothing leaks column names into the words partners read
    words = " ".join(" ".join(r) for r in e["intent_reasons"].head(500))
    assert "sigarea_" not in words and "ib_" not in words


def test_cell_movement_against_last_month(scores):
    before = scores[scores["product"].isin(PREVIOUS_PRODUCTS) & scores["eligible"]]
    assert before["previous_cell"].notna().mean() > 0.5
    assert scores.loc[~scores["product"].isin(PREVIOUS_PRODUCTS), "cell_change"].eq("new").all()
    assert set(scores["cell_change"]) <= {"new", "up", "down", "same", "entered eligibility",
                                          "left eligibility"}
    up = scores[scores["cell_change"] == "up"]
    assert len(up) > 0
    assert up["cell_change_reason"].str.contains(" to ").all()


def test_published_index_manifest_and_partner_isolation(monthly_lake):
    lake, _, manifest = monthly_lake
    index = read_index(lake)
    assert index["latest"] == MONTH and set(index["months"]) == {PREVIOUS, MONTH}
    man = json.loads((lake.root / "reports" / "_manifests" / f"{MONTH}.json").read_text())
    assert man["models"] and man["inputs"]["signals"] and man["timings_s"]["score"] >= 0
    assert man["counts"]["scores"] > 0
    book = lake.read(C.PARTNER_CUSTOMERS).to_pandas()
    for gid, g in list(book.groupby("global_id"))[:5]:
        for report in C.REPORTS:
            t = pq.read_table(report_path(lake, gid, MONTH, report, "parquet")).to_pandas()
            assert list(t.columns) == C.report_columns(report)
            assert set(t["CustomerID"]) == set(g["customer_id"])
            assert (t["GlobalID"] == gid).all()
            assert t["PotentialRevenue"].is_monotonic_decreasing
            for col in C.report_flag_columns(report):
                assert set(t[col]) <= {"Yes", "No"}, col
            path = report_path(lake, gid, MONTH, report, "csv")
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
            assert rows[0] == C.report_columns(report) and len(rows) == len(t) + 1


def test_cohorts_follow_their_definitions(monthly_lake):
    lake, _, _ = monthly_lake
    feats = pq.read_table(lake.path("features", MONTH)).to_pandas().set_index("customer_id")
    gid = lake.read(C.PARTNER_CUSTOMERS).to_pandas()["global_id"].value_counts().index[0]
    t = pq.read_table(report_path(lake, gid, MONTH, "azure", "parquet")).to_pandas()
    f = feats.loc[t["CustomerID"]]
    want = (~f["ib_azure_owned"].astype(bool) & f["ib_m365_owned"].astype(bool)).to_numpy()
    assert ((t["AzureNoConsumptionHasM365"] == "Yes").to_numpy() == want).all()
    s = pq.read_table(report_path(lake, gid, MONTH, "security", "parquet")).to_pandas()
    f = feats.loc[s["CustomerID"]]
    want = (f["ib_m365_owned"].astype(bool) & ~f["ib_security_e5_owned"].astype(bool))
    assert ((s["SecurityM365ToE5"] == "Yes").to_numpy() == want.to_numpy()).all()


def _snapshot(lake, month):
    return {p.relative_to(lake.root): p.read_bytes()
            for p in sorted((lake.root / "reports").glob(f"partner=*/month={month}/*"))}


def test_rerun_is_idempotent_and_a_failed_run_leaves_reports_untouched(monthly_lake):
    lake, settings, _ = monthly_lake
    before = _snapshot(lake, MONTH)
    prev = _snapshot(lake, PREVIOUS)
    index = read_index(lake)
    run_monthly(lake, settings, MONTH, skip_crawl=True)
    after = _snapshot(lake, MONTH)
    assert before.keys() == after.keys()
    csvs = [k for k in before if k.suffix == ".csv"]
    assert all(before[k] == after[k] for k in csvs), "a rerun changed a published report"
    # a run that fails (here: the partner table is unreadable) publishes nothing
    partners = lake.path(C.PARTNERS)
    hidden = partners.with_name("partners.hidden")
    partners.rename(hidden)
    try:
        with pytest.raises(MonthlyError, match="publish"):
            run_monthly(lake, settings, MONTH, skip_crawl=True, retrain=False)
    finally:
        hidden.rename(partners)
    assert read_index(lake)["latest"] == index["latest"] == MONTH
    assert _snapshot(lake, PREVIOUS) == prev
    assert _snapshot(lake, MONTH) == after
    assert not list((lake.root / "reports" / "_staging").glob("*/partner=*/*"))
