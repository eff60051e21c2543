"""Cluster verification: do customers the report sent to "Act now" really buy more often?

The vendor verifies its propensity clusters against the opportunities sales actually took.
Here a cluster's *win rate* is the share of its eligible customers that bought the product
(won an opportunity or started a paid subscription) in the three months after the scoring
month, i.e. ``label_<product>`` of ``labels/month=M``; every rate carries a Wilson interval.
The expected order is Act now > Evaluate > Nurture > Educate (``CLUSTERS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.stats import wilson
from propensity.contracts import CLUSTERS
from propensity.settings import EvaluationSettings

RATE_COLUMNS = ["product", "group", "rows", "buyers", "win_rate", "low", "high"]


def win_rates(scored: pd.DataFrame, by: str = "cluster", confidence: float = 0.95,
              order: Sequence[str] | None = None) -> pd.DataFrame:
    """Win rate with its interval per product and ``by`` group (cluster or cell).

    ``scored``: one row per (month, customer, product) of eligible customers with at least
    ``product``, ``by`` and ``label`` (bool: bought in the 3-month window). Groups are
    listed in ``order`` (default: the clusters, or cells A1..D4) and absent groups get a row
    with zero customers, so every table has the same shape.
    """
    if order is None:
        order = CLUSTERS if by == "cluster" else [f"{a}{d}" for a in "ABCD" for d in "1234"]
    rows = []
    for product in sorted(scored["product"].unique()):
        d = scored[scored["product"] == product]
        counts = d.groupby(by, observed=True)["label"].agg(["size", "sum"])
        for g in order:
            n, k = (int(counts.loc[g, "size"]), int(counts.loc[g, "sum"])) if g in counts.index \
                else (0, 0)
            iv = wilson(k, n, confidence)
            rows.append({"product": product, "group": g, "rows": n, "buyers": k,
                         "win_rate": iv.value, "low": iv.low, "high": iv.high})
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


def reference_clusters(rows: pd.DataFrame, column: str) -> pd.Series:
    """The clusters ``column``'s ranking gives with the model's cluster sizes.

    Per (month, product), the customers are sorted by ``column`` (highest first) and dealt
    into Act now, Evaluate, Nurture and Educate in the numbers the model put there. With
    ``column="oracle"`` this asks whether the order can hold at this volume at all: if
    the true probability, dealt into the same clusters, breaks it too, the market's noise
    is the cause rather than the model. Rows where ``column`` is missing get no cluster.
    """
    out = pd.Series(np.full(len(rows), None, dtype=object), index=rows.index)
    for _, g in rows.groupby(["month", "product"], sort=False):
        s = pd.to_numeric(g[column], errors="coerce")
        if s.isna().any():
            continue
        sizes = g["cluster"].value_counts()
        labels = np.concatenate([np.full(int(sizes.get(c, 0)), c, dtype=object)
                                 for c in CLUSTERS])
        order = np.argsort(-s.to_numpy(float), kind="stable")
        idx = g.index.to_numpy()[order]
        n = min(len(labels), len(idx))  # rows outside the four clusters keep None
        out.loc[idx[:n]] = labels[:n]
    return out


OUTSIDE_COLUMNS = ["product", "rows", "buyers", "model", "oracle"]


def ranking_outside_top(rows: pd.DataFrame, top: str = CLUSTERS[0]) -> pd.DataFrame:
    """AUC of the model and of the oracle among the customers the model left outside ``top``.

    Evaluate, Nurture and Educate are cut from this part of the ranking, so this is the
    figure behind their order: a model AUC near 0.5 here means the win rates of those three
    clusters are close to one another whatever their sizes, while the oracle's AUC says how
    far the market's true probability could separate them. Pooled over the months of
    ``rows`` (``replay`` rows: product, cluster, label, model, oracle); NaN where a column
    is missing or the rows hold one class only.
    """
    from sklearn.metrics import roc_auc_score

    out = []
    for product, d in rows[rows["cluster"].isin([c for c in CLUSTERS if c != top])].groupby(
            "product", sort=True):
        y = d["label"].astype(bool).to_numpy()
        rec = {"product": product, "rows": len(d), "buyers": int(y.sum())}
        for col in ("model", "oracle"):
            s = pd.to_numeric(d[col], errors="coerce") if col in d.columns else None
            ok = s is not None and s.notna().all() and 0 < y.sum() < len(y)
            rec[col] = float(roc_auc_score(y, s.to_numpy(float))) if ok else float("nan")
        out.append(rec)
    return pd.DataFrame(out, columns=OUTSIDE_COLUMNS)


@dataclass
class OrderCheck:
    """The verdict on one product's cluster order."""

    product: str
    status: str  # holds, fails, not enough volume
    separated: bool  # every adjacent pair's intervals are disjoint
    checked: list[str] = field(default_factory=list)  # clusters with enough customers
    failures: list[str] = field(default_factory=list)  # plain-word breaks of the order
    overlaps: list[str] = field(default_factory=list)  # adjacent pairs whose intervals overlap
    buyers: int = 0

    @property
    def verdict(self) -> str:
        """The verdict in words, without the product's name."""
        if self.status == "not enough volume":
            return (f"not checked: {self.buyers} buyers, "
                    f"{len(self.checked)} clusters with enough customers")
        if self.status == "fails":
            return "order fails: " + "; ".join(self.failures)
        sep = ("intervals separated" if self.separated
               else "intervals overlap for " + ", ".join(self.overlaps))
        skipped = [c for c in CLUSTERS if c not in self.checked]
        extra = f" (too few customers in {', '.join(skipped)})" if skipped else ""
        return f"order holds, {sep}{extra}"

    @property
    def message(self) -> str:
        return f"{self.product}: {self.verdict}"


def verify_order(rates: pd.DataFrame, settings: EvaluationSettings) -> list[OrderCheck]:
    """Check Act now > Evaluate > Nurture > Educate per product on ``win_rates(by='cluster')``.

    A product is checked when it has at least ``min_product_buyers`` buyers and at least two
    clusters with ``min_cluster_rows`` customers; clusters below that are left out of the
    comparison (and named). The order *holds* when the win rates of the clusters checked
    strictly decrease in the expected order; it is *separated* when, in addition, each
    adjacent pair's intervals do not overlap. Every break is named with both rates.
    """
    out = []
    for product, d in rates.groupby("product", sort=True):
        d = d.set_index("group").reindex(list(CLUSTERS))
        buyers = int(d["buyers"].fillna(0).sum())
        checked = [c for c in CLUSTERS if d.loc[c, "rows"] >= settings.min_cluster_rows]
        if buyers < settings.min_product_buyers or len(checked) < 2:
            out.append(OrderCheck(str(product), "not enough volume", False, checked,
                                  buyers=buyers))
            continue
        failures, overlaps = [], []
        for hi, lo in zip(checked, checked[1:], strict=False):
            a, b = d.loc[hi], d.loc[lo]
            if not a["win_rate"] > b["win_rate"]:
                failures.append(f"{hi} {100 * a['win_rate']:.1f}% [{100 * a['low']:.1f}, "
                                f"{100 * a['high']:.1f}] is not above {lo} "
                                f"{100 * b['win_rate']:.1f}% [{100 * b['low']:.1f}, "
                                f"{100 * b['high']:.1f}]")
            if a["low"] <= b["high"]:
                overlaps.append(f"{hi}/{lo}")
        status = "fails" if failures else "holds"
        out.append(OrderCheck(str(product), status, not overlaps and not failures, checked,
                              failures, overlaps, buyers))
    return out
