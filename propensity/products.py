"""Product rules every stage shares: who can buy a product, and who counts as its best customer.

Both are written over the feature table's columns (``ib_<p>_owned``, ``agr_ending_90d``,
...), so training, scoring and evaluation apply exactly the same rule.

Eligibility (who is scored for a product, and on whom models are trained and judged):
- subscription products: customers who do not own the product at the cut-off;
- copilot and security_e5: customers who own Microsoft 365 and not the product (both are
  add-ons to an M365 licence);
- surface: every customer (devices are bought again);
- renewal: customers with an agreement in force that ends within 90 days.

Best customers of a product (the positives of the lookalike fit model): owners at the
cut-off whose monthly revenue on the product is at least the median of owners in the same
subsegment, or whose usage is at least 80% of assigned licences, or who won an opportunity
for the product in the past; for renewal, customers with an Enterprise Agreement in force.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.contracts import check_product

ADD_ONS = ("copilot", "security_e5")


def _col(frame: pd.DataFrame, name: str, default: object = False) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index)


def eligible_mask(frame: pd.DataFrame, product: str) -> np.ndarray:
    """Boolean array: rows of ``frame`` (a feature table) that can buy ``product``."""
    check_product(product)
    if product == "renewal":
        return _col(frame, "agr_ending_90d").fillna(False).astype(bool).to_numpy()
    if product == "surface":
        return np.ones(len(frame), bool)
    owned = _col(frame, f"ib_{product}_owned").fillna(False).astype(bool).to_numpy()
    mask = ~owned
    if product in ADD_ONS:
        mask &= _col(frame, "ib_m365_owned").fillna(False).astype(bool).to_numpy()
    return mask


def best_customers(frame: pd.DataFrame, product: str) -> np.ndarray:
    """Boolean array: the product's best existing customers at the cut-off (fit positives)."""
    check_product(product)
    if product == "renewal":
        return _col(frame, "agr_has_ea").fillna(False).astype(bool).to_numpy()
    owned = _col(frame, f"ib_{product}_owned").fillna(False).astype(bool)
    revenue = _col(frame, f"ib_{product}_revenue_usd", 0.0).astype(float)
    seg = _col(frame, "firm_subsegment", "all").astype(str)
    median = revenue.where(owned).groupby(seg).transform("median")
    high_revenue = owned & (revenue >= median.fillna(np.inf))
    usage = pd.to_numeric(_col(frame, f"adopt_{product}_usage_pct", np.nan), errors="coerce")
    high_usage = owned & (usage >= 0.8).fillna(False)
    won = pd.to_numeric(_col(frame, f"wl_{product}_wins", 0), errors="coerce").fillna(0) > 0
    return (high_revenue | high_usage | (owned & won)).to_numpy()
