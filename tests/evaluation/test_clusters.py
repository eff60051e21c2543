"""Cluster verification: win rates per cluster with intervals, and the order verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.clusters import ranking_outside_top, reference_clusters, verify_order, win_rates
from propensity.contracts import CLUSTERS
from propensity.settings import EvaluationSettings


def scored(rates: dict[str, float], n: int = 400, product: str = "azure",
           seed: int = 0) -> pd.DataFrame:
    """``n`` customers per cluster buying at exactly the given rate."""
    rows = []
    for cluster, rate in rates.items():
        k = round(rate * n)
        label = np.r_[np.ones(k, bool), np.zeros(n - k, bool)]
        rows.append(pd.DataFrame({"product": product, "cluster": cluster, "label": label,
                                  "cell": cluster[0].replace("E", "B") + "1"}))
    return pd.concat(rows, ignore_index=True)


S = EvaluationSettings(min_cluster_rows=50, min_product_buyers=30)


def test_win_rates_have_one_row_per_cluster_in_order_with_intervals() -> None:
    df = scored({"Act now": 0.2, "Evaluate": 0.1, "Nurture": 0.05})
    r = win_rates(df)
    assert r["group"].tolist() == list(CLUSTERS)
    assert r.loc[r["group"] == "Educate", "rows"].item() == 0  # absent cluster kept, empty
    a = r[r["group"] == "Act now"].iloc[0]
    assert a["buyers"] == 80 and a["low"] < 0.2 < a["high"]


def test_order_holds_and_is_separated_when_rates_fall_clearly() -> None:
    df = scored({"Act now": 0.30, "Evaluate": 0.15, "Nurture": 0.06, "Educate": 0.01})
    (check,) = verify_order(win_rates(df), S)
    assert check.status == "holds" and check.separated
    assert "order holds" in check.message


def test_order_holds_with_overlap_when_adjacent_rates_are_close() -> None:
    df = scored({"Act now": 0.30, "Evaluate": 0.15, "Nurture": 0.06, "Educate": 0.05})
    (check,) = verify_order(win_rates(df), S)
    assert check.status == "holds" and not check.separated
    assert check.overlaps == ["Nurture/Educate"]


def test_a_break_in_the_order_is_named_with_both_rates() -> None:
    df = scored({"Act now": 0.10, "Evaluate": 0.15, "Nurture": 0.06, "Educate": 0.01})
    (check,) = verify_order(win_rates(df), S)
    assert check.status == "fails"
    assert check.failures[0].startswith("Act now 10.0%") and "Evaluate 15.0%" in check.failures[0]


def test_small_clusters_are_left_out_and_small_products_not_checked() -> None:
    big = scored({"Act now": 0.3, "Evaluate": 0.15, "Nurture": 0.05})
    tiny = scored({"Educate": 0.5}, n=10)
    (check,) = verify_order(win_rates(pd.concat([big, tiny])), S)
    assert check.status == "holds" and check.checked == ["Act now", "Evaluate", "Nurture"]
    assert "too few customers in Educate" in check.message
    few = scored({"Act now": 0.02, "Evaluate": 0.01}, n=100, product="surface")
    (check,) = verify_order(win_rates(few), S)
    assert check.status == "not enough volume"


def test_reference_clusters_deal_a_ranking_into_the_models_cluster_sizes() -> None:
    rng = np.random.default_rng(3)
    parts = []
    for month in ("2026-05", "2026-06"):
        n = 200
        cluster = rng.choice(list(CLUSTERS), n, p=[0.25, 0.2, 0.25, 0.3])
        parts.append(pd.DataFrame({"month": month, "product": "azure", "cluster": cluster,
                                   "oracle": rng.random(n), "label": False}))
    rows = pd.concat(parts, ignore_index=True)
    rows.loc[(rows["month"] == "2026-06").to_numpy() & (np.arange(len(rows)) % 50 == 0),
             "oracle"] = np.nan  # a month with a missing value gets no reference
    ref = reference_clusters(rows, "oracle")
    may, june = rows["month"] == "2026-05", rows["month"] == "2026-06"
    assert ref[june].isna().all()
    # same sizes as the model's clusters, and the order of the ranking: every Act now row
    # outranks every Evaluate row, and so on down
    assert ref[may].value_counts().to_dict() == rows.loc[may, "cluster"].value_counts().to_dict()
    lo = [rows.loc[may & (ref == c), "oracle"] for c in CLUSTERS]
    for hi_group, lo_group in zip(lo, lo[1:], strict=False):
        assert hi_group.min() > lo_group.max()


def test_a_perfect_reference_holds_the_order_whatever_the_models_clusters() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    p = rng.beta(1, 12, n)
    label = rng.random(n) < p
    cluster = rng.permutation(np.repeat(list(CLUSTERS), n // 4))  # the model knows nothing
    rows = pd.DataFrame({"month": "2026-05", "product": "azure", "cluster": cluster,
                         "oracle": p, "label": label})
    ref = rows.assign(cluster=reference_clusters(rows, "oracle"))
    [oracle] = verify_order(win_rates(ref), S)
    assert oracle.status == "holds" and oracle.separated
    rates = win_rates(ref).set_index("group")["win_rate"]
    assert rates["Act now"] > 2 * rates["Educate"]


def test_ranking_outside_act_now_leaves_act_now_out() -> None:
    rng = np.random.default_rng(1)
    n = 8000
    p = rng.beta(1, 12, n)
    label = rng.random(n) < p
    cluster = np.where(np.arange(n) < n // 4, "Act now", "Evaluate")
    # the model ranks perfectly inside Act now and knows nothing below it
    model = np.where(cluster == "Act now", p, rng.random(n))
    rows = pd.DataFrame({"month": "2026-05", "product": "azure", "cluster": cluster,
                         "label": label, "model": model, "oracle": p})
    [r] = ranking_outside_top(rows).to_dict("records")
    assert r["rows"] == n - n // 4 and r["buyers"] == int(label[n // 4:].sum())
    assert abs(r["model"] - 0.5) < 0.05 and r["oracle"] > 0.7
    no_oracle = ranking_outside_top(rows.assign(oracle=np.nan))
    assert np.isnan(no_oracle.loc[0, "oracle"]) and no_oracle.loc[0, "model"] == r["model"]
