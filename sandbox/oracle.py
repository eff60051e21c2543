"""The oracle: how well the true purchase probabilities rank next-3-month purchases.

Every later model is compared with this ceiling. The label for cut-off M is whether the
customer bought the product in M, M+1 or M+2, read from the raw tables as any model would
see it: a won opportunity closed in the window, or a new paid subscription (seen active, in
grace or suspended; a trial that expired is not a purchase) that started in it. The oracle's
score is the true probability of buying within that window,
``1 - (1 - p_M)(1 - p_M+1)(1 - p_M+2)``, from ``truth/purchase_probability``: it knows the
hidden intent of all three months, including events that happen after the cut-off, so no
model can beat it in expectation. For M+1 and M+2 it uses ``propensity`` (the probability
ignoring eligibility): a customer that buys in M is ineligible afterwards, and zeros there
would rank actual buyers below non-buyers. (Ranking by ``p_M`` alone is *not* a ceiling for a
3-month window: fit persists while intent decays, and a model trained on 3-month labels
learns that.)

A later month counts only where the customer could buy in it had it not bought earlier in
the window: it is eligible that month, or it was eligible at the cut-off and (renewal only)
the agreement then due still runs at that month's start. Without that gate the oracle gives a
customer who cannot buy at all (a Surface owner inside its refresh cycle, an agreement already
renewed or ending this month) up to two months of its latent propensity, and ranks it among
the buyers on the populations the models score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propensity import contracts as C
from propensity.lake import Lake
from propensity.months import add_months, cutoff
from sandbox.market import RENEWAL_WINDOW_DAYS

HORIZON = 3


def oracle_scores(lake: Lake, month: str, horizon: int = HORIZON) -> pd.DataFrame:
    """The oracle's score per (customer_id, product) at ``month``'s cut-off.

    Columns: customer_id, product, probability (of buying within the window), eligible (at
    the cut-off). Months of the window beyond the truth table count as probability 0.
    """
    base = lake.read(C.PURCHASE_PROBABILITY, month=month).to_pandas()
    base = base.astype({"customer_id": str, "product": str})
    keys = pd.MultiIndex.from_frame(base[["customer_id", "product"]])
    eligible0 = base["eligible"].astype(bool).to_numpy()
    renewal = (base["product"] == "renewal").to_numpy()
    due_end = _due_agreement_end(lake, month).reindex(base["customer_id"]).to_numpy()
    keep = 1.0 - base["probability"].astype(float).to_numpy()
    have = set(lake.months(C.PURCHASE_PROBABILITY))
    for i in range(1, horizon):
        m = add_months(month, i)
        if m not in have:
            continue
        t = lake.read(C.PURCHASE_PROBABILITY, month=m).to_pandas().astype(
            {"customer_id": str, "product": str}).set_index(["customer_id", "product"])
        # the probability the customer would have had even if it already bought (a buyer is
        # ineligible afterwards; using 0 would penalise actual buyers), where it could buy
        p = t["propensity"].astype(float).reindex(keys).fillna(0.0).to_numpy()
        eligible = t["eligible"].astype("boolean").reindex(keys).fillna(False).to_numpy(bool)
        still = eligible0 & (~renewal | (due_end >= np.datetime64(cutoff(m), "D")))
        keep *= 1.0 - np.where(eligible | still, p, 0.0)
    out = base[["customer_id", "product", "eligible"]].copy()
    out["probability"] = 1.0 - keep
    return out


def _due_agreement_end(lake: Lake, month: str) -> pd.Series:
    """Per customer, the last end date among its agreements due for renewal at ``month``'s
    cut-off (ending in the market's 92-day renewal window), as ``datetime64[D]``."""
    a = lake.read(C.AGREEMENTS, columns=["customer_id", "end_date"]).to_pandas()
    end = pd.to_datetime(a["end_date"]).to_numpy("datetime64[D]")
    lo = np.datetime64(cutoff(month), "D")
    due = (end >= lo) & (end < lo + np.timedelta64(RENEWAL_WINDOW_DAYS, "D"))
    out = pd.Series(end[due], index=a["customer_id"].astype(str).to_numpy()[due])
    return out.groupby(level=0).max()


def purchase_labels(lake: Lake, month: str, horizon: int = HORIZON) -> pd.DataFrame:
    """Who bought what in the ``horizon`` months from ``month``'s cut-off.

    Returns one row per (customer_id, product) that bought, with ``label`` True.
    Raises ``ValueError`` if the lake does not reach the end of the window.
    """
    last = add_months(month, horizon - 1)
    months = lake.months(C.SUBSCRIPTIONS)
    if not months or last > months[-1]:
        raise ValueError(
            f"labels for {month} need history up to {last}; the lake ends at "
            f"{months[-1] if months else 'nothing'}"
        )
    lo = pd.Timestamp(cutoff(month))
    hi = pd.Timestamp(cutoff(add_months(month, horizon)))
    opp = lake.read(C.OPPORTUNITIES, columns=["customer_id", "product", "closed_at", "outcome"])
    opp = opp.to_pandas()
    closed = pd.to_datetime(opp["closed_at"])
    won = opp[(opp["outcome"] == "won") & (closed >= lo) & (closed < hi)]
    parts = [won[["customer_id", "product"]]]
    for m in [add_months(month, i) for i in range(horizon)]:
        sub = lake.read(C.SUBSCRIPTIONS, month=m,
                        columns=["customer_id", "product", "start_date", "status"]).to_pandas()
        start = pd.to_datetime(sub["start_date"])
        new = sub[(start >= lo) & (start < hi) & sub["status"].astype(str).isin(C.PAID_STATUSES)]
        parts.append(new[["customer_id", "product"]].astype(str))
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    out["label"] = True
    return out.reset_index(drop=True)


@dataclass
class OracleRow:
    product: str
    eligible: int
    positives: int
    base_rate: float
    auc: float
    capture_top10: float
    best_capture_top10: float = float("nan")


def capture_at(score: np.ndarray, label: np.ndarray, share: float = 0.1) -> float:
    """Share of all positives found in the top ``share`` of rows ranked by ``score``."""
    if label.sum() == 0:
        return float("nan")
    k = int(np.ceil(share * len(score)))
    top = np.argsort(-score, kind="stable")[:k]
    return float(label[top].sum() / label.sum())


def oracle_figures(lake: Lake, months: list[str]) -> list[OracleRow]:
    """AUC and top-10% capture of the oracle's score, pooled over ``months``, per product.

    The population at month M is every customer eligible for the product at M.
    """
    from sklearn.metrics import roc_auc_score

    frames = []
    for m in months:
        truth = oracle_scores(lake, m)
        truth = truth[truth["eligible"]]
        labels = purchase_labels(lake, m)
        df = truth.merge(labels, on=["customer_id", "product"], how="left")
        df["label"] = df["label"].astype("boolean").fillna(False).astype(bool)
        df["month"] = m
        frames.append(df)
    all_rows = pd.concat(frames, ignore_index=True)
    rows = []
    for p in C.PRODUCTS:
        d = all_rows[all_rows["product"] == p]
        y = d["label"].to_numpy()
        s = d["probability"].to_numpy()
        auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")
        # capture within each month, averaged (a monthly top-10% list is what partners get)
        monthly = [g for _, g in d.groupby("month") if g["label"].any()]
        caps = [capture_at(g["probability"].to_numpy(), g["label"].to_numpy()) for g in monthly]
        # a perfect ranking puts every buyer first: at most ceil(10% of rows) of them fit
        best = [min(1.0, np.ceil(0.1 * len(g)) / g["label"].sum()) for g in monthly]
        rows.append(OracleRow(p, len(d), int(y.sum()), float(y.mean()) if len(y) else 0.0,
                              auc, float(np.mean(caps)) if caps else float("nan"),
                              float(np.mean(best)) if best else float("nan")))
    return rows
