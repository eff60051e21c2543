"""Cluster verification: win rates per cluster with intervals, and the order verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.clusters import verify_order, win_rates
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
